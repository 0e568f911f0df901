/**
 * A second build of wsflow for the benches, from a git revision: `--baseline=<rev>` (a sha, a tag,
 * `HEAD~3`, a branch) makes bench/index.ts, bench/server.ts, bench/client.ts and bench/memory.ts
 * run that revision's src/ next to the working tree's, as one more contender named
 * `wsflow@<short sha>`, in the same interleaved rounds as the others.
 *
 * The revision's src/ is written by `git archive <sha> src | tar -x` into a temporary directory
 * under os.tmpdir(); the servers and clients import its `src/index.ts` by file URL through tsx
 * (src/ has no runtime dependency, so the copy needs no node_modules, only a package.json saying
 * `"type": "module"`). The directory is removed by
 * `remove()`, and in any case when the process exits (SIGINT and SIGTERM are turned into an exit).
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository this bench belongs to. */
export const REPO = fileURLToPath(new URL('..', import.meta.url))

/** The working tree's public entry point, as the contender `wsflow` imports it. */
export const CURRENT_INDEX = fileURLToPath(new URL('../src/index.ts', import.meta.url))

/** The `--baseline=<rev>` flag's revision, or undefined. */
export function baselineFlag(argv: readonly string[] = process.argv): string | undefined {
  const flag = argv.find((a) => a.startsWith('--baseline='))
  if (flag === undefined) return undefined
  const rev = flag.slice('--baseline='.length)
  if (rev === '') throw new Error('bench: --baseline= needs a git revision')
  return rev
}

function git(args: readonly string[]): string {
  return execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

/** The commit a revision names (full sha) and its short form; throws on a revision git does not know. */
export function resolveRevision(rev: string): { sha: string; short: string } {
  let sha: string
  try {
    sha = git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])
  } catch {
    throw new Error(`bench: --baseline=${rev}: not a commit in ${REPO}`)
  }
  return { sha, short: git(['rev-parse', '--short', sha]) }
}

/** A revision's src/ written out in a temporary directory. */
export interface Baseline {
  /** The contender's name: `wsflow@<short sha>`. */
  readonly name: string
  readonly sha: string
  /** The temporary directory; the revision's src/ is in `<dir>/src`. */
  readonly dir: string
  /** Its `src/index.ts`, an absolute path. */
  readonly index: string
  /** Removes the directory (also done when the process exits). */
  remove(): void
}

const made = new Set<string>()
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1)) // so that 'exit' runs

/** Writes the src/ of `rev` into a new directory under os.tmpdir(), as `git archive` has it. */
export function materializeBaseline(rev: string): Baseline {
  const { sha, short } = resolveRevision(rev)
  const dir = mkdtempSync(join(tmpdir(), `wsflow-baseline-${short}-`))
  made.add(dir)
  const remove = (): void => {
    rmSync(dir, { recursive: true, force: true })
    made.delete(dir)
  }
  try {
    const archive = spawnSync('git', ['archive', '--format=tar', sha, 'src'], { cwd: REPO, maxBuffer: 256 * 2 ** 20 })
    if (archive.status !== 0) throw new Error(`bench: git archive ${short} src: ${archive.stderr.toString().trim()}`)
    const tar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout })
    if (tar.status !== 0) throw new Error(`bench: tar -x of ${short}'s src: ${tar.stderr.toString().trim()}`)
    const index = join(dir, 'src', 'index.ts')
    if (!existsSync(index)) throw new Error(`bench: ${short} has no src/index.ts`)
    // ESM, as in the repository: tsc (module NodeNext) and Node decide a file's format by it.
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
    return { name: `wsflow@${short}`, sha, dir, index, remove }
  } catch (error) {
    remove()
    throw error
  }
}

/**
 * Writes a tsconfig next to a baseline's src/ for the tsc build of bench/memory.ts: the repository's
 * tsconfig.build.json, rooted at the copy, without the `node` types (emitting without type checks
 * needs none, and the copy has no node_modules). Returns its path.
 */
export function writeBaselineTsconfig(baseline: Baseline): string {
  const file = join(baseline.dir, 'tsconfig.build.json')
  const config = { extends: join(REPO, 'tsconfig.build.json'), compilerOptions: { rootDir: 'src', types: [] }, include: ['src'] }
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`)
  return file
}

/**
 * wsflow as users run it: compiles the src/ of a tsconfig (the repository's by default) into a
 * temporary directory, with tsc without type checking (the working tree may be mid-edit). Returns
 * its directory and the path of its index.js. The directory is removed when the process exits, if
 * the caller has not removed it before.
 */
export function buildWsflow(project = join(REPO, 'tsconfig.build.json')): { dir: string; index: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-build-'))
  made.add(dir)
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc')
  const flags = ['--outDir', dir, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false', '--noCheck']
  const result = spawnSync(process.execPath, [tsc, '-p', project, ...flags], { encoding: 'utf8', timeout: 120_000 })
  const index = join(dir, 'index.js')
  if (result.status !== 0 || !existsSync(index)) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`bench: tsc could not build ${project}: ${result.error?.message ?? ''}${result.stdout}${result.stderr}`)
  }
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n') // the build is ESM, as in the package
  return { dir, index }
}

/** The wsflow builds a bench runs: the working tree's, and the `--baseline` revision's if one is given. */
export interface WsflowBuilds {
  /** The working tree's entry point: a tsc build's index.js, or src/index.ts with `--source`. */
  readonly current: string
  /** The baseline revision (its name and src/), if `--baseline` was given. */
  readonly baseline: Baseline | undefined
  /** The baseline's entry point, built the same way as `current`. */
  readonly baselineIndex: string | undefined
  /** Whether both run from src/ through tsx (`--source`) rather than compiled. */
  readonly fromSource: boolean
  /** A line saying what runs. */
  readonly description: string
  /** Removes the temporary builds and the baseline's copy. */
  remove(): void
}

/**
 * The builds of wsflow a bench compares, made as users run them: src/ compiled by tsc
 * ({@link buildWsflow}), for the working tree and for the `--baseline=<rev>` revision. With
 * `--source` both run from src/ through tsx instead. The two differ in more than speed of start:
 * under tsx every module is transformed (esbuild keepNames) and kept, and a wsflow server
 * process that also had ws loaded ran twice the major GCs at 1 MiB (bench/ab.ts).
 */
export function wsflowBuilds(argv: readonly string[] = process.argv): WsflowBuilds {
  const rev = baselineFlag(argv)
  const fromSource = argv.includes('--source')
  const baseline = rev === undefined ? undefined : materializeBaseline(rev)
  const dirs: string[] = []
  try {
    let current = CURRENT_INDEX
    let baselineIndex = baseline?.index
    if (!fromSource) {
      const build = buildWsflow()
      dirs.push(build.dir)
      current = build.index
      if (baseline !== undefined) {
        const base = buildWsflow(writeBaselineTsconfig(baseline))
        dirs.push(base.dir)
        baselineIndex = base.index
      }
    }
    const how = fromSource ? 'src/ through tsx (--source)' : 'compiled by tsc, as users run it'
    return {
      current,
      baseline,
      baselineIndex,
      fromSource,
      description: `wsflow: ${how}${baseline === undefined ? '' : `; baseline ${baseline.name} (${baseline.sha}), built the same way`}`,
      remove: () => {
        for (const dir of dirs) {
          rmSync(dir, { recursive: true, force: true })
          made.delete(dir)
        }
        baseline?.remove()
      },
    }
  } catch (error) {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    baseline?.remove()
    throw error
  }
}
