// Which of these entities a remaining hyperedge or event lists as a member or participant.
// @param ns
// @param ids
// @param gone
MATCH (h:GmNode {namespace: $ns})
WHERE h.kind IN ['hyperedge', 'event'] AND NOT h.id IN $gone
UNWIND h.members AS member
WITH member
WHERE member IN $ids
RETURN DISTINCT member AS id
