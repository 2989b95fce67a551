package cnid

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// sampleRegions are real county-level region codes (GB/T 2260) used when a generator is
// not given one: districts of Beijing, Shanghai, Guangzhou, Shenzhen, Hangzhou, Nanjing,
// Chengdu, Wuhan, Xi'an, Chongqing, Tianjin, Fuzhou, Jinan, Changsha and Shenyang.
var sampleRegions = []string{
	"110101", "110105", "110108", "310101", "310104", "310115", "440103", "440106",
	"440304", "440305", "330102", "330106", "320102", "320106", "510104", "510107",
	"420102", "420106", "610103", "610113", "500103", "500112", "120101", "120104",
	"350102", "350104", "370102", "370103", "430102", "430104", "210102", "210103",
}

// mobilePrefixes are number blocks in use by the three carriers and their MVNOs.
var mobilePrefixes = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"150", "151", "152", "153", "155", "156", "157", "158", "159",
	"166", "173", "175", "176", "177", "178",
	"180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
	"191", "195", "198", "199",
}

// RandomRegion returns one of a fixed list of real county-level region codes.
func RandomRegion(r *rand.Rand) string { return sampleRegions[r.IntN(len(sampleRegions))] }

func digits(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return b
}

// GenerateResidentID returns a valid resident identity number for the given region,
// birth date and sex, with a random sequence number drawn from r. An empty region
// picks a real one at random. It panics when region is not 6 digits with a known
// province prefix or the birth year is outside 1900-9999 (a programming error).
func GenerateResidentID(r *rand.Rand, region string, birth time.Time, male bool) string {
	if region == "" {
		region = RandomRegion(r)
	}
	if len(region) != 6 || !allDigits(region) || !validProvince(region) {
		panic(fmt.Sprintf("cnid: GenerateResidentID: bad region code %q", region))
	}
	if birth.Year() < 1900 || birth.Year() > 9999 {
		panic(fmt.Sprintf("cnid: GenerateResidentID: birth year %d out of range", birth.Year()))
	}
	seq := 2*r.IntN(499) + 1 // 001..997, odd
	if !male {
		seq++ // 002..998, even
	}
	s := fmt.Sprintf("%s%04d%02d%02d%03d", region, birth.Year(), int(birth.Month()), birth.Day(), seq)
	c, _ := ResidentIDCheck(s)
	return s + string(c)
}

// GenerateUSCC returns a valid unified social credit code drawn from r: mostly
// companies (91), some individual businesses (92), public institutions (12) and
// social organizations (51), with a real region code and an organization code either
// numeric (older codes) or of the "MA" form assigned since 2015.
func GenerateUSCC(r *rand.Rand) string {
	kinds := [...]string{"91", "91", "91", "91", "91", "91", "92", "92", "12", "51"}
	b := make([]byte, 0, 18)
	b = append(b, kinds[r.IntN(len(kinds))]...)
	b = append(b, RandomRegion(r)...)
	if r.IntN(2) == 0 {
		b = append(b, 'M', 'A')
		for range 6 {
			b = append(b, usccAlphabet[r.IntN(len(usccAlphabet))])
		}
	} else {
		b = append(b, digits(r, 8)...)
	}
	oc, _ := OrgCodeCheck(string(b[8:16]))
	b = append(b, oc)
	c, _ := USCCCheck(string(b))
	return string(append(b, c))
}

// GenerateMobile returns a valid 11-digit mobile number drawn from r.
func GenerateMobile(r *rand.Rand) string {
	return mobilePrefixes[r.IntN(len(mobilePrefixes))] + string(digits(r, 8))
}
