package timemu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// GenerateOptions shapes the demo data set.
type GenerateOptions struct {
	// Seed makes the data set reproducible: the same options give the same
	// fixture.
	Seed uint64
	// SDKAppID is the app the groups belong to.
	SDKAppID uint64
	// Key and Admins, when set, go into the fixture so that Load can add the
	// app by itself.
	Key    string
	Admins []string
	// Messages is the message count of the biggest group; 0 means 12,000, so
	// that pulls of 5,000 and 10,000 seqs are meaningful.
	Messages int
	// Now is the Unix time the history ends at: messages are spread over
	// the days before it, the newest a few minutes old. 0 means a fixed
	// date (2026-01-05), so that a data set is reproducible.
	Now int64
	// ExtraGroups adds that many small Work groups ("Team 000042", 2 to 6
	// members, a few messages each) after the demo groups, to exercise a
	// group directory at scale (100,000 loads in a few seconds).
	ExtraGroups int
}

// DemoGroup describes one generated group, for tests and the demo banner.
type DemoGroup struct {
	ID, Type, Name string
	Members        int
	Messages       int
}

// DemoGroups lists the groups Generate creates, in order, for
// GenerateOptions.Messages = messages (0 = default). It shows what the demo
// offers: two groups of each supported type, a Public group over the
// 200-member receipt limit and an AVChatRoom, which receipts do not support.
func DemoGroups(messages int) []DemoGroup {
	if messages <= 0 {
		messages = 12000
	}
	return []DemoGroup{
		{"@TGS#2ALLHANDS", TypePublic, "All hands", 200, messages},
		{"support-tier2", TypePublic, "Support tier 2", 64, 3000},
		{"@TGS#2OPSWAR01", TypePrivate, "Ops war room", 18, 1500},
		{"eng-leads", TypeWork, "Engineering leads", 9, 800},
		{"@TGS#3STANDUP1", TypeChatRoom, "Daily stand-up", 35, 2000},
		{"incident-2417", TypeMeeting, "Incident 2417 bridge", 120, 600},
		{"town-hall-emea", TypePublic, "Town hall EMEA (over 200 members)", 260, 200},
		{"@TGS#aLIVELAUNCH", TypeAVChatRoom, "Launch livestream (AVChatRoom)", 150, 300},
	}
}

var (
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"karl", "linh", "mallory", "nadia", "oscar", "peggy", "quinn", "rupert", "sybil", "trent",
		"uma", "victor", "wendy", "xin", "yusuf", "zoe", "amir", "bea", "chen", "dmitri",
		"elif", "femi", "gita", "hiro", "ines", "jun", "kemal", "lena", "mei", "noor"}
	lastNames = []string{"chen", "garcia", "ito", "kim", "lopez", "muller", "nguyen", "okafor", "patel", "rossi"}
)

// Generate builds the deterministic demo data set described by DemoGroups.
// Read ratios vary by group and decay with a message's age (older messages
// were read by fewer members); members differ in how much they read; the
// first messages of each group predate the receipt switch and about one in
// twelve later ones was sent without a receipt request. It takes a few tens
// of milliseconds and stores reads as bitsets.
func Generate(opts GenerateOptions) *Fixture {
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	pool := make([]string, len(firstNames)*len(lastNames))
	for i := range pool {
		pool[i] = firstNames[i%len(firstNames)] + "." + lastNames[i/len(firstNames)]
	}
	fa := FixtureApp{SDKAppID: opts.SDKAppID, Key: opts.Key, Admins: opts.Admins}
	for _, dg := range DemoGroups(opts.Messages) {
		fa.Groups = append(fa.Groups, generateGroup(rng, pool, dg))
	}
	// The content comes from a stream of its own, so that adding it left
	// the receipts of every earlier data set as they were.
	crng := rand.New(rand.NewPCG(opts.Seed^0x5851f42d4c957f2d, opts.Seed))
	now := opts.Now
	if now == 0 {
		now = 1767571200 // 2026-01-05T00:00:00Z
	}
	for i := range opts.ExtraGroups {
		fa.Groups = append(fa.Groups, extraGroup(crng, pool, i))
	}
	for i := range fa.Groups {
		generateContent(crng, &fa.Groups[i], now)
	}
	fa.Nicks = make(map[string]string, len(pool))
	for i, acct := range pool {
		fa.Nicks[acct] = nickname(i, acct)
	}
	return &Fixture{Apps: []FixtureApp{fa}}
}

// Message texts of the generated history: announcements that ask for a
// receipt, and chatter, in English and Chinese.
var (
	announcements = []string{
		"Reminder: the quarterly security training is due by Friday. Please confirm once done.",
		"New on-call rota for December is in the wiki; check your slots.",
		"Maintenance window tonight 22:00-23:00 UTC: the admin console will be read-only.",
		"Please read: updated incident escalation policy, effective Monday.",
		"All-hands moves to 15:00 tomorrow; the agenda is attached.",
		"Office closed on the 24th; support runs on the holiday rota.",
		"请注意：本周五前完成季度安全培训，完成后请回复确认。",
		"12 月值班表已更新到知识库，请查看自己的班次。",
		"今晚 22:00–23:00（UTC）系统维护，管理后台只读。",
		"重要通知：新的故障升级流程自下周一起生效，请务必阅读。",
		"明天全员大会改到 15:00，议程见附件。",
	}
	chatter = []string{
		"Thanks, on it.", "Can someone take ticket 4821?", "Deploy finished, all green.",
		"Lunch at 12:30?", "I'll be 10 minutes late to the stand-up.", "Looks good to me 👍",
		"Who owns the billing alerts this week?", "Rolled back, investigating.",
		"收到，马上处理。", "这个工单谁来跟进？", "发布完成，一切正常。", "我晚到十分钟。", "已回滚，正在排查。",
	}
	// kindWeights are the shares of message kinds in the generated history.
	kindWeights = []struct {
		kind   string
		weight int
	}{{"text", 70}, {"image", 8}, {"file", 5}, {"sound", 3}, {"video", 3}, {"location", 2}, {"face", 4}, {"custom", 5}}
	chineseNames = []string{"陈静", "王磊", "李娜", "张伟", "刘洋", "赵敏", "周杰", "吴芳", "孙浩", "郑丽"}
)

// extraGroup is one small Work group of GenerateOptions.ExtraGroups.
func extraGroup(rng *rand.Rand, pool []string, i int) FixtureGroup {
	n := 2 + rng.IntN(5)
	members := make([]string, n)
	for j := range members {
		members[j] = pool[rng.IntN(len(pool))]
	}
	g := FixtureGroup{ID: fmt.Sprintf("@TGS#2G%07d", i), Type: TypeWork, Name: fmt.Sprintf("Team %06d", i), Owner: members[0], Members: members[1:]}
	for seq := range uint32(rng.IntN(4)) {
		g.Messages = append(g.Messages, FixtureMessage{Seq: seq + 1, From: members[rng.IntN(n)], Receipt: true})
	}
	return g
}

// generateContent gives g's messages a time (spread over the days before
// now, the newest a few minutes old), a kind and a text, and recalls about
// one in a hundred. Messages that asked for a receipt are mostly
// announcements.
func generateContent(rng *rand.Rand, g *FixtureGroup, now int64) {
	n := len(g.Messages)
	if n == 0 {
		return
	}
	span := int64(7 * 24 * 3600) // a week of history
	step := span / int64(n)
	t := now - span
	for k := range g.Messages {
		m := &g.Messages[k]
		t += max(1, step/2+rng.Int64N(step+1))
		m.Time = min(t, now-300)
		roll, acc := rng.IntN(100), 0
		m.Kind = "text"
		for _, kw := range kindWeights {
			acc += kw.weight
			if roll < acc {
				m.Kind = kw.kind
				break
			}
		}
		if m.Kind == "text" {
			if m.Receipt && rng.IntN(3) != 0 {
				m.Text = announcements[rng.IntN(len(announcements))]
			} else {
				m.Text = chatter[rng.IntN(len(chatter))]
			}
		}
		m.Recalled = rng.IntN(100) == 0
	}
}

// nickname is the display name of generated account i ("alice.chen"): most
// are "Alice Chen", one in five a Chinese name.
func nickname(i int, acct string) string {
	if i%5 == 4 {
		return chineseNames[(i/5)%len(chineseNames)]
	}
	first, last, _ := strings.Cut(acct, ".")
	return titleCase(first) + " " + titleCase(last)
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func generateGroup(rng *rand.Rand, pool []string, dg DemoGroup) FixtureGroup {
	perm := rng.Perm(len(pool))
	members := make([]string, dg.Members)
	for i := range members {
		members[i] = pool[perm[i]]
	}
	// Activity per member, mean about 1: a few read everything, some rarely.
	activity := make([]float64, dg.Members)
	for i := range activity {
		activity[i] = 0.25 + 1.5*rng.Float64()*rng.Float64()*2
	}
	peak := 0.55 + 0.4*rng.Float64()   // read ratio of recent messages
	floor := 0.05 + 0.25*rng.Float64() // read ratio of the oldest
	tau := float64(dg.Messages) * (0.15 + 0.5*rng.Float64())
	noReceiptBefore := uint32(dg.Messages / 25)

	fg := FixtureGroup{ID: dg.ID, Type: dg.Type, Name: dg.Name, Owner: members[0], Members: members[1:]}
	fg.Messages = make([]FixtureMessage, dg.Messages)
	for k := range fg.Messages {
		seq := uint32(k + 1)
		fm := FixtureMessage{Seq: seq, Receipt: seq > noReceiptBefore && rng.IntN(12) != 0}
		sender := -1
		if rng.IntN(20) != 0 {
			sender = rng.IntN(dg.Members)
			fm.From = members[sender]
		}
		if fm.Receipt {
			age := float64(dg.Messages - k - 1)
			ratio := floor + (peak-floor)*math.Exp(-age/tau)
			ratio *= 1 - math.Exp(-(age+1)/3) // the newest are still being read
			for i, a := range activity {
				if i != sender && rng.Float64() < ratio*a {
					fm.ReadBits.Set(i)
				}
			}
		}
		fg.Messages[k] = fm
	}
	return fg
}
