import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkArchitecture } from '../helpers/import-graph.ts'

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

// ---- the real import graph (the compiler's pre-processor), see test/helpers/import-graph.ts ----

const allSources = new Map(sources('src').map((file) => [file, readFileSync(file, 'utf8')]))

test('the import graph: every folder imports only the layers below it, node:* only where allowed, no top-level file from a folder', () => {
  const { violations } = checkArchitecture(allSources)
  assert.equal(violations.map((v) => `${v.file} imports ${v.specifier}: ${v.rule}`), [])
})

test('the import graph: no cycles between files (import type included)', () => {
  const { cycles } = checkArchitecture(allSources)
  assert.equal(cycles.map((c) => c.join(' -> ')), [])
})

test('the checker fails when a lower layer imports a higher one, a core file imports node:*, or files import each other', () => {
  const bad = new Map([
    ['src/core/a.ts', "import { WebSocket } from '../connection/websocket.ts'\nimport type { X } from './b.ts'"],
    ['src/core/b.ts', "import { createHash } from 'node:crypto'\nexport { y } from './a.ts'"],
    ['src/connection/websocket.ts', "const m = await import('../server/server.ts')"],
    ['src/transforms/t.ts', "import { x } from '../index.ts'"],
    ['src/index.ts', "export * from './core/a.ts'"],
  ])
  const { violations, cycles } = checkArchitecture(bad)
  const seen = violations.map((v) => `${v.file} ${v.specifier}`)
  assert.ok(seen.includes('src/core/a.ts ../connection/websocket.ts'), 'core importing connection')
  assert.ok(seen.includes('src/core/b.ts node:crypto'), 'node:* in core')
  assert.ok(seen.includes('src/connection/websocket.ts ../server/server.ts'), 'a dynamic import upwards')
  assert.ok(seen.includes('src/transforms/t.ts ../index.ts'), 'a folder importing a top-level file')
  assert.is(violations.length, 4)
  assert.equal(cycles, [['src/core/a.ts', 'src/core/b.ts']], 'the import type / export from cycle')
  assert.equal(checkArchitecture(new Map([['src/core/a.ts', "import { b } from './b.ts'"], ['src/core/b.ts', '']])).violations, [])
})

test('core/, internal/ and transforms/ compile with no Node types (tsconfig.core.json: types [])', () => {
  const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.core.json'], { encoding: 'utf8' })
  assert.is(result.status, 0, result.stdout + result.stderr)
})

test.run()
