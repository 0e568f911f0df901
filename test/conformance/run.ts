/**
 * Prints the full per-case conformance table for both roles (wsflow as server, then as client),
 * with a summary per section. Usage: `node --import tsx test/conformance/run.ts [--plain|--deflate]
 * [id-prefix ...]` (e.g. `6.4 7.9` runs only those cases). Tables: the plain sections 1-11, and
 * permessage-deflate (sections 12-14 and 1-11 again with compression negotiated, "+deflate");
 * `--plain` or `--deflate` runs only one, both by default. Exits with 1 when a case FAILED.
 * CONFORMANCE_LOG=1 prints the peer's timeline of every case that is not OK, CONFORMANCE_LOG=all
 * of every case.
 * @module
 */
import { cases, type Case } from './cases.ts'
import { deflateCases, withCompression } from './cases-deflate.ts'
import { formatRow, startClientRole, startServerRole, summarize, type CaseResult, type RoleRunner } from './harness.ts'

const args = process.argv.slice(2)
const tables = args.includes('--plain') ? ['plain'] : args.includes('--deflate') ? ['deflate'] : ['plain', 'deflate']
const filters = args.filter((a) => !a.startsWith('--'))
const all: Case[] = [...(tables.includes('plain') ? cases : []), ...(tables.includes('deflate') ? [...deflateCases, ...withCompression()] : [])]
const selected = all.filter((c) => filters.length === 0 || filters.some((prefix) => c.id === prefix || c.id.startsWith(`${prefix}.`) || c.id.startsWith(`${prefix}/`)))

async function runAll(start: () => Promise<RoleRunner>): Promise<CaseResult[]> {
  const runner = await start()
  const results: CaseResult[] = []
  try {
    process.stdout.write(`\n## wsflow as ${runner.role}\n\n`)
    for (const c of selected) {
      if (c.only !== undefined && c.only !== runner.role) continue
      const r = await runner.run(c)
      results.push(r)
      process.stdout.write(`${formatRow(r)}\n`)
      const log = process.env.CONFORMANCE_LOG
      if ((log === 'all' || (log !== undefined && r.verdict !== 'OK')) && r.log.length > 0) process.stdout.write(`${r.log.map((l) => `      ${l}`).join('\n')}\n`)
    }
  } finally {
    await runner.close()
  }
  return results
}

const started = performance.now()
const server = await runAll(startServerRole)
const client = await runAll(startClientRole)
process.stdout.write(`\n${summarize(server)}\n\n${summarize(client)}\n\ntotal time ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
process.exitCode = [...server, ...client].some((r) => r.verdict === 'FAILED') ? 1 : 0
