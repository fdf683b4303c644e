package timemu

import (
	"math"
	"math/rand/v2"
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
	return &Fixture{Apps: []FixtureApp{fa}}
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
