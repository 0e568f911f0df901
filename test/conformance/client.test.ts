/**
 * Autobahn-style conformance, sections 1-10 (plus extras), with wsflow as the client: `connect(url)` then
 * `for await (const m of ws) await ws.send(m)`, fuzzed by the raw server of peer.ts, which also
 * checks that every frame the client sends is masked. One test per case;
 * OK and NON-STRICT pass, FAILED fails. A summary `N OK, N NON-STRICT, N FAILED` ends the run.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cases } from './cases.ts'
import { formatRow, startClientRole, summarize, type CaseResult, type RoleRunner } from './harness.ts'

let runner: RoleRunner | undefined
const results: CaseResult[] = []

test.before(async () => {
  runner = await startClientRole()
})

test.after(async () => {
  await runner?.close()
  const notable = results.filter((r) => r.verdict !== 'OK').map(formatRow)
  console.log(`\n${notable.length > 0 ? `${notable.join('\n')}\n\n` : ''}${summarize(results)}`)
})

for (const c of cases) {
  if (c.only === 'server') continue
  test(`client ${c.id}: ${c.description}`, async () => {
    const result = await runner!.run(c)
    results.push(result)
    assert.ok(result.verdict !== 'FAILED', `${c.id} FAILED: ${result.notes.join('; ')}\n${result.log.join('\n')}`)
  })
}

test.run()
