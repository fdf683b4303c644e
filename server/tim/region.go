package tim

// Region is a Tencent Cloud Chat data center. An app lives in exactly one;
// calling another region's domain fails the UserSig check (70016/70020), so
// the region is part of each app's configuration.
type Region string

// The regions with a documented REST endpoint (tencent-chat-api.md §9).
const (
	China         Region = "china"
	Singapore     Region = "singapore"
	Seoul         Region = "seoul"
	Tokyo         Region = "tokyo"
	Frankfurt     Region = "frankfurt"
	Mumbai        Region = "mumbai"
	SiliconValley Region = "siliconvalley"
	Jakarta       Region = "jakarta"
)

type regionInfo struct {
	region       Region
	name         string
	main, backup string
}

// regions is the single table of endpoints. Each region has a backup domain
// for when the main name fails (Tencent documents it for DNS hijacking).
var regions = []regionInfo{
	{China, "China", "console.tim.qq.com", "adminapi.my-imcloud.com"},
	{Singapore, "Singapore", "adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"},
	{Seoul, "Seoul", "adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"},
	{Tokyo, "Tokyo", "adminapijpn.im.qcloud.com", "adminapijpn.my-imcloud.com"},
	{Frankfurt, "Frankfurt", "adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"},
	{Mumbai, "Mumbai", "adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com"},
	{SiliconValley, "Silicon Valley", "adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"},
	{Jakarta, "Jakarta", "adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"},
}

// Regions lists every known region in a stable order, for configuration
// validation and for the UI's app list.
func Regions() []Region {
	out := make([]Region, len(regions))
	for i, r := range regions {
		out[i] = r.region
	}
	return out
}

func (r Region) info() (regionInfo, bool) {
	for _, ri := range regions {
		if ri.region == r {
			return ri, true
		}
	}
	return regionInfo{}, false
}

// Domains returns the region's main and backup REST host names; ok is false
// for an unknown region so configuration can reject typos.
func (r Region) Domains() (main, backup string, ok bool) {
	ri, ok := r.info()
	return ri.main, ri.backup, ok
}

// DisplayName is the region's human name ("Silicon Valley") for operators;
// an unknown region displays as its raw value.
func (r Region) DisplayName() string {
	if ri, ok := r.info(); ok {
		return ri.name
	}
	return string(r)
}
