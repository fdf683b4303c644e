package ui

// Local storage keys. Only the operator's own convenience data is stored:
// query shapes, never results or member IDs.
const (
	storeRecent  = "timconsole.recent"
	storeLastApp = "timconsole.app"
)

// maxRecent bounds the recent-queries list.
const maxRecent = 8

// pushRecent puts q first, removing an earlier copy of the same question,
// and keeps at most limit entries.
func pushRecent(list []query, q query, limit int) []query {
	out := make([]query, 0, min(len(list)+1, limit))
	out = append(out, q)
	for _, r := range list {
		if len(out) == limit {
			break
		}
		if r.key() != q.key() {
			out = append(out, r)
		}
	}
	return out
}

// resultCache keeps the last few results by query, so browser back and
// forward between recent questions do not cost Tencent calls.
type resultCache struct {
	keys  []string
	items map[string]*cachedResult
}

const maxCached = 4

func (c *resultCache) get(q query) (*cachedResult, bool) {
	r, ok := c.items[q.key()]
	return r, ok
}

func (c *resultCache) put(q query, r *cachedResult) {
	if c.items == nil {
		c.items = map[string]*cachedResult{}
	}
	k := q.key()
	if _, ok := c.items[k]; !ok {
		c.keys = append(c.keys, k)
	}
	c.items[k] = r
	for len(c.keys) > maxCached {
		delete(c.items, c.keys[0])
		c.keys = c.keys[1:]
	}
}
