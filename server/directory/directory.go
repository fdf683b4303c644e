// Package directory keeps an index of one Tencent Cloud Chat app's groups,
// so operators find a group by its name instead of its ID. The index is
// built from get_appid_group_list (1 call/s, up to 10,000 IDs a page) and
// get_group_info (up to 50 groups a call, 200 calls/s), through the app's
// tim client and its limiters, so building never exceeds the vendor's rates.
//
// The first search of an app starts the build, and the index is rebuilt
// every Config.Refresh after that, or at once on Refresh; a build runs at
// most once at a time, and searches answer from the last complete index
// (with the build's progress while the first one runs). Nothing is fetched
// for an app nobody searches.
//
// Several replicas share one index through Config.Shared (Redis): the
// replica that takes the build lease builds and publishes the index, the
// others load what it published instead of calling Tencent themselves.
// Without Shared, each replica builds its own.
package directory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/timconsole/timconsole/server/tim"
)

// DefaultRefresh is how often a used index is rebuilt: group names and the
// last message times change during the day, and a rebuild of 100,000 groups
// costs about 10 s of get_appid_group_list and 2,000 get_group_info calls.
const DefaultRefresh = 10 * time.Minute

// MaxPage is the largest page of Search; DefaultPage is a page when the
// caller names none: a screenful of a directory list.
const (
	MaxPage     = 200
	DefaultPage = 25
)

// Source is what the index is built from: the app's tim client.
type Source interface {
	GroupList(ctx context.Context, next uint64, limit int, groupType string) (*tim.GroupListPage, error)
	GroupInfos(ctx context.Context, ids []string) ([]tim.GroupInfo, error)
}

// Config tunes an Index. Zero values take the defaults.
type Config struct {
	// Refresh is the rebuild interval of an index in use (DefaultRefresh);
	// negative turns the periodic rebuild off.
	Refresh time.Duration
	// BuildTimeout bounds one build (default 10 minutes).
	BuildTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnBuild, when set, is told of every finished build: the groups, the
	// duration and the error, if any (for logs and metrics).
	OnBuild func(groups int, took time.Duration, err error)
	// Shared, when set, is where the replicas of a fleet share one index.
	Shared Shared
	// PollEvery is how often a replica that does not build looks for the
	// index another one is building (default 1 s).
	PollEvery time.Duration
}

// Shared lets the replicas of a fleet share one index per app.
type Shared interface {
	// Acquire takes the build lease for ttl, or reports that another
	// replica holds it; release gives it back early.
	Acquire(ctx context.Context, ttl time.Duration) (release func(), ok bool, err error)
	// Publish stores a complete index, built at built.
	Publish(ctx context.Context, groups []Group, built time.Time) error
	// Latest returns the published index when it is newer than since; nil
	// groups and a zero time when there is none newer.
	Latest(ctx context.Context, since time.Time) ([]Group, time.Time, error)
}

// Group is one entry of the index. Its JSON form is the storage format of a
// Shared store.
type Group struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	MemberNum   int    `json:"memberNum"`
	NextMsgSeq  uint64 `json:"nextMsgSeq"`
	LastMsgTime int64  `json:"lastMsgTime"`
	// Receipts is false for the types without read receipts (AVChatRoom,
	// Community), which are listed all the same.
	Receipts bool   `json:"receipts"`
	lower    string // Name in lower case, for search
}

// lowered returns g ready for the index (a Group read back from a Shared
// store has no search key yet).
func (g Group) lowered() Group {
	g.lower = strings.ToLower(g.Name)
	return g
}

// Progress is the state of the build under way.
type Progress struct {
	Building bool
	// Listed counts the IDs listed so far; Detailed the groups whose
	// profile arrived; Total is the app's group count once known.
	Listed, Detailed, Total int
}

// Index is one app's group directory. It is safe for concurrent use.
type Index struct {
	src Source
	cfg Config

	mu       sync.Mutex
	snap     *snapshot // the last complete index; nil before the first
	built    time.Time
	progress Progress
	err      error // of the last build
	running  bool
	started  bool
	stop     chan struct{}
	once     sync.Once
}

// New returns an empty index of src; nothing is fetched until the first
// Search or Refresh.
func New(src Source, cfg Config) *Index {
	if cfg.Refresh == 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.BuildTimeout <= 0 {
		cfg.BuildTimeout = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = time.Second
	}
	return &Index{src: src, cfg: cfg, stop: make(chan struct{})}
}

// Close stops the periodic rebuilds and any build under way.
func (x *Index) Close() { x.once.Do(func() { close(x.stop) }) }

// Refresh starts a rebuild now unless one runs already.
func (x *Index) Refresh() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.startLocked()
}

func (x *Index) startLocked() {
	if x.running {
		return
	}
	select {
	case <-x.stop:
		return
	default:
	}
	x.running = true
	x.progress = Progress{Building: true}
	if !x.started {
		x.started = true
		if x.cfg.Refresh > 0 {
			go x.tick()
		}
	}
	go x.build()
}

func (x *Index) tick() {
	t := time.NewTicker(x.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-x.stop:
			return
		case <-t.C:
			x.Refresh()
		}
	}
}

// build lists every group, then fetches their profiles 50 at a time, and
// swaps the new index in when complete; a failed build keeps the old one.
func (x *Index) build() {
	start := x.cfg.Now()
	ctx, cancel := context.WithTimeout(context.Background(), x.cfg.BuildTimeout)
	defer cancel()
	go func() {
		select {
		case <-x.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	groups, built, err := x.obtain(ctx)
	var snap *snapshot
	if err == nil && groups != nil {
		snap = newSnapshot(groups)
	}
	x.mu.Lock()
	x.running = false
	x.progress.Building = false
	x.err = err
	if snap != nil {
		x.snap, x.built = snap, built
	}
	x.mu.Unlock()
	if x.cfg.OnBuild != nil {
		x.cfg.OnBuild(len(groups), x.cfg.Now().Sub(start), err)
	}
}

// obtain builds the index, or, when another replica of the fleet holds
// the build lease, waits for the index it publishes.
func (x *Index) obtain(ctx context.Context) ([]Group, time.Time, error) {
	sh := x.cfg.Shared
	if sh == nil {
		groups, err := x.fetch(ctx)
		return groups, x.cfg.Now(), err
	}
	x.mu.Lock()
	since := x.built
	x.mu.Unlock()
	// A fresh enough index published by another replica: no call at all.
	if groups, built, err := sh.Latest(ctx, since); err == nil && groups != nil && (x.cfg.Refresh < 0 || x.cfg.Now().Sub(built) < x.cfg.Refresh) {
		return groups, built, nil
	}
	release, ok, err := sh.Acquire(ctx, x.cfg.BuildTimeout)
	if err != nil {
		// The shared store is down: build alone rather than show nothing.
		groups, ferr := x.fetch(ctx)
		return groups, x.cfg.Now(), ferr
	}
	if ok {
		defer release()
		groups, err := x.fetch(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		built := x.cfg.Now()
		// A failed publish leaves the others to build their own next
		// time; this replica has its index either way.
		_ = sh.Publish(ctx, groups, built)
		return groups, built, nil
	}
	// Another replica builds: wait for what it publishes.
	t := time.NewTicker(x.cfg.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		case <-t.C:
		}
		groups, built, err := sh.Latest(ctx, since)
		if err == nil && groups != nil {
			return groups, built, nil
		}
	}
}

// fetch lists the app's groups and fetches their profiles as the pages
// arrive: the profiles of one page (200 calls at 200/s for 10,000 groups)
// are fetched while the next page waits for get_appid_group_list's 1 call/s,
// so a build takes about as long as the slower of the two rates allows.
func (x *Index) fetch(ctx context.Context) ([]Group, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex // guards groups and firstErr
		groups   []Group
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	work := make(chan []string)
	for range 8 {
		wg.Go(func() {
			for b := range work {
				infos, err := x.src.GroupInfos(ctx, b)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				for _, g := range infos {
					if g.Code != 0 {
						continue // dismissed since it was listed
					}
					groups = append(groups, Group{
						ID: g.ID, Name: g.Name, Type: g.Type, MemberNum: g.MemberNum,
						NextMsgSeq: g.NextMsgSeq, LastMsgTime: g.LastMsgTime,
						Receipts: HasReceipts(g.Type), lower: strings.ToLower(g.Name),
					})
				}
				mu.Unlock()
				x.mu.Lock()
				x.progress.Detailed += len(b)
				x.mu.Unlock()
			}
		})
	}
	listed := 0
	next := uint64(0)
list:
	for {
		p, err := x.src.GroupList(ctx, next, tim.MaxGroupListPage, "")
		if err != nil {
			fail(err)
			break
		}
		listed += len(p.IDs)
		x.mu.Lock()
		x.progress.Listed, x.progress.Total = listed, p.Total
		x.mu.Unlock()
		for b := range slices.Chunk(p.IDs, tim.MaxGroupInfoIDs) {
			select {
			case work <- b:
			case <-ctx.Done():
				break list
			}
		}
		if p.Next == 0 || len(p.IDs) == 0 {
			break
		}
		next = p.Next
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(groups, func(a, b Group) int {
		if a.LastMsgTime != b.LastMsgTime {
			if a.LastMsgTime > b.LastMsgTime {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return groups, nil
}

// HasReceipts reports whether groups of type t support read receipts:
// Private/Work, Public and ChatRoom/Meeting do; AVChatRoom and Community
// do not.
func HasReceipts(t string) bool {
	switch t {
	case "AVChatRoom", "Community", "BChatRoom":
		return false
	}
	return true
}

// Query is one directory search.
type Query struct {
	// Text matches a name (case-insensitive substring, Chinese included) or
	// an ID prefix; "" matches every group.
	Text string
	// Type keeps one group type ("" = all); Work and Private, Meeting and
	// ChatRoom are one type each.
	Type string
	// Offset and Limit page the matches (Limit 1..MaxPage, 0 = DefaultPage).
	Offset, Limit int
}

// Result is one page of matches, newest last message first.
type Result struct {
	Groups []Group
	// Total counts every match; Next is the offset of the next page, 0 when
	// this is the last one.
	Total, Next int
	// Ready is false until the first build has finished; Progress says how
	// far it is, Built when the index was last complete.
	Ready    bool
	Progress Progress
	Built    time.Time
	// Err is the last build's failure, if any (the index shown is older).
	Err error
}

// ErrClosed is returned by Search after Close.
var ErrClosed = errors.New("directory closed")

// Search answers q from the last complete index, starting the first build
// if none ran yet.
func (x *Index) Search(q Query) (Result, error) {
	select {
	case <-x.stop:
		return Result{}, ErrClosed
	default:
	}
	x.mu.Lock()
	if !x.started {
		x.startLocked()
	}
	snap, built, progress, err := x.snap, x.built, x.progress, x.err
	x.mu.Unlock()

	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	res := Result{Ready: !built.IsZero(), Progress: progress, Built: built, Err: err}
	if snap == nil {
		return res, nil
	}
	match := snap.search(strings.TrimSpace(q.Text), sameType(q.Type))
	res.Total = len(match)
	if q.Offset < len(match) {
		end := min(q.Offset+limit, len(match))
		res.Groups = make([]Group, 0, end-q.Offset)
		for _, i := range match[q.Offset:end] {
			res.Groups = append(res.Groups, snap.groups[i])
		}
		if end < len(match) {
			res.Next = end
		}
	}
	return res, nil
}

// snapshot is one complete index: the groups, newest last message first,
// an inverted index of their lower-case names' trigrams (of runes, so
// Chinese names are searched like any other), and the groups ordered by
// ID for prefix searches. A search then touches the groups that can match,
// not all 100,000.
type snapshot struct {
	groups []Group
	grams  map[string][]int32 // trigram -> group positions, ascending
	byID   []int32            // group positions in ID order
}

func newSnapshot(groups []Group) *snapshot {
	for i := range groups {
		if groups[i].lower == "" {
			groups[i] = groups[i].lowered()
		}
	}
	s := &snapshot{groups: groups, grams: map[string][]int32{}, byID: make([]int32, len(groups))}
	for i := range groups {
		s.byID[i] = int32(i)
		seen := map[string]bool{}
		for _, g := range trigrams(groups[i].lower) {
			if !seen[g] {
				seen[g] = true
				s.grams[g] = append(s.grams[g], int32(i))
			}
		}
	}
	slices.SortFunc(s.byID, func(a, b int32) int { return strings.Compare(groups[a].ID, groups[b].ID) })
	return s
}

// trigrams lists the rune trigrams of s.
func trigrams(s string) []string {
	r := []rune(s)
	if len(r) < 3 {
		return nil
	}
	out := make([]string, 0, len(r)-2)
	for i := 0; i+3 <= len(r); i++ {
		out = append(out, string(r[i:i+3]))
	}
	return out
}

// search returns the positions of the groups that match text (a name
// substring, case-insensitive, or an ID prefix) and typ, in index order.
// A text of three runes or more is looked up through its rarest trigram;
// a shorter one is checked against every name.
func (s *snapshot) search(text, typ string) []int32 {
	keep := func(i int32) bool { return typ == "" || sameType(s.groups[i].Type) == typ }
	if text == "" {
		var out []int32
		for i := range s.groups {
			if keep(int32(i)) {
				out = append(out, int32(i))
			}
		}
		return out
	}
	lower := strings.ToLower(text)
	hit := map[int32]bool{}
	// ID prefix: a binary search in ID order.
	from, _ := slices.BinarySearchFunc(s.byID, text, func(i int32, t string) int { return strings.Compare(s.groups[i].ID, t) })
	for _, i := range s.byID[from:] {
		if !strings.HasPrefix(s.groups[i].ID, text) {
			break
		}
		hit[i] = true
	}
	// Name substring.
	if grams := trigrams(lower); len(grams) > 0 {
		best := s.grams[grams[0]]
		for _, g := range grams[1:] {
			if l := s.grams[g]; len(l) < len(best) {
				best = l
			}
		}
		for _, i := range best {
			if strings.Contains(s.groups[i].lower, lower) {
				hit[i] = true
			}
		}
	} else {
		for i := range s.groups {
			if strings.Contains(s.groups[i].lower, lower) {
				hit[int32(i)] = true
			}
		}
	}
	out := make([]int32, 0, len(hit))
	for i := range hit {
		if keep(i) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// sameType folds Work onto Private and Meeting onto ChatRoom.
func sameType(t string) string {
	switch t {
	case "Work":
		return "Private"
	case "Meeting":
		return "ChatRoom"
	}
	return t
}
