// Delete the lifecycle events of a namespace (when the namespace is deleted).
// @param ns
MATCH (e:GmLifecycle {namespace: $ns})
DELETE e
