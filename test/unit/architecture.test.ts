import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
}

const portable = [...sources('src/core'), ...sources('src/transforms')]

test('core/ and transforms/ are found', () => {
  assert.ok(portable.length >= 15, `only ${portable.length} files`)
})

test('core/ and transforms/ import no node:* module and use no Node-only global', () => {
  for (const file of portable) {
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
    for (const [, specifier] of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const isNode = specifier!.startsWith('node:') || builtinModules.includes(specifier!.split('/')[0]!)
      assert.not.ok(isNode, `${file} imports the Node module ${specifier}`)
    }
    assert.not.match(code, /\b(Buffer|process|setTimeout|setInterval|setImmediate|require)\b/, `${file} uses a Node-only global or a timer`)
  }
})

test('core/ imports nothing from outside core/', () => {
  for (const file of sources('src/core')) {
    const code = readFileSync(file, 'utf8')
    for (const [, specifier] of code.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      const target = join(dirname(file), specifier!)
      assert.ok(target.startsWith('src/core/'), `${file} imports ${specifier}, outside core/`)
    }
  }
})

test.run()
