// Append lifecycle events to their nodes' histories; (stamp, seq) orders them.
// @param ns
// @param stamp
// @param rows
UNWIND $rows AS row
CREATE (e:GmLifecycle {
  namespace: $ns,
  node: row.node,
  kind: row.kind,
  event: row.event,
  state: row.state,
  at: row.at,
  reason: row.reason,
  actor: row.actor,
  data: row.data,
  stamp: $stamp,
  seq: row.seq
})
