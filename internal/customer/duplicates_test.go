package customer

import (
	"slices"
	"testing"
)

func TestCoreName(t *testing.T) {
	nr := defaultNameRules()
	if len(nr.orgSuffixes) == 0 || len(nr.placeSuffixes) == 0 {
		t.Fatalf("data/names.txt not loaded: %+v", nr)
	}
	cases := []struct {
		kind, name, province, city, district, want string
	}{
		{KindOrg, "杭州云栖科技有限公司", "浙江省", "杭州市", "西湖区", "云栖科技"},
		{KindOrg, "云栖科技股份有限公司", "浙江省", "杭州市", "西湖区", "云栖科技"},
		{KindOrg, "浙江云栖科技集团有限公司", "浙江省", "杭州市", "西湖区", "云栖科技"},
		{KindOrg, "云栖控股集团有限公司", "", "", "", "云栖"},
		{KindOrg, "ＡＢＣ Trading Co., Ltd.", "", "", "", "abctrading"},
		{KindOrg, "Acme Inc", "", "", "", "acme"},
		{KindOrg, "公司", "", "", "", "公司"}, // never stripped to nothing
		{KindOrg, "杭州", "浙江省", "杭州市", "", "杭州"},
		{KindPerson, "张伟有限公司", "", "", "", "张伟有限公司"}, // suffixes are for organisations
		{KindPerson, "王 芳", "", "", "", "王芳"},
	}
	for _, tc := range cases {
		if got := nr.coreName(tc.kind, tc.name, tc.province, tc.city, tc.district); got != tc.want {
			t.Errorf("coreName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestJaccard(t *testing.T) {
	a, b := bigrams("云栖智能数据科技研究院"), bigrams("云栖智能数据科技研究所")
	if j := jaccard(a, b); j < 0.8 || j > 0.85 {
		t.Fatalf("jaccard = %v", j)
	}
	if j := jaccard(bigrams("云栖智能科技研究院"), bigrams("云栖智能科技研究所")); j >= 0.8 {
		t.Fatalf("short names too similar: %v", j)
	}
	if j := jaccard(bigrams("x"), bigrams("x")); j != 1 {
		t.Fatalf("single rune: %v", j)
	}
	if j := jaccard(bigrams(""), bigrams("")); j != 0 {
		t.Fatalf("empty: %v", j)
	}
}

func TestMatchPair(t *testing.T) {
	nr := defaultNameRules()
	org := func(id int64, name, district string) *dupFacts {
		return &dupFacts{ID: id, Kind: KindOrg, Name: name, Province: "浙江省", City: "杭州市", District: district}
	}
	person := func(id int64, name, district, addr string) *dupFacts {
		return &dupFacts{ID: id, Kind: KindPerson, Name: name, Province: "浙江省", City: "杭州市", District: district, AddressBidx: addr}
	}
	with := func(f *dupFacts, mod func(*dupFacts)) *dupFacts { mod(f); return f }
	cases := []struct {
		name    string
		a, b    *dupFacts
		ok      bool
		reasons []string
		score   int
	}{
		{"same mobile", with(person(1, "甲", "", ""), func(f *dupFacts) { f.MobileBidx = "m" }),
			with(person(2, "乙", "", ""), func(f *dupFacts) { f.MobileBidx = "m" }), true, []string{ReasonMobile}, 100},
		{"mobile against phone", with(person(1, "甲", "", ""), func(f *dupFacts) { f.MobileBidx = "m" }),
			with(person(2, "乙", "", ""), func(f *dupFacts) { f.PhoneBidx = "m" }), true, []string{ReasonPhone}, 100},
		{"same id number", with(person(1, "甲", "", ""), func(f *dupFacts) { f.IDNumberBidx = "i" }),
			with(person(2, "甲", "", ""), func(f *dupFacts) { f.IDNumberBidx = "i" }), true, []string{ReasonIDNumber, ReasonName}, 100},
		{"same credit code across kinds", with(org(1, "甲公司", ""), func(f *dupFacts) { f.Credit = "c" }),
			with(person(2, "乙", "", ""), func(f *dupFacts) { f.Credit = "c" }), true, []string{ReasonCreditCode}, 100},
		{"empty identifiers never match", person(1, "甲", "", ""), person(2, "乙", "", ""), false, nil, 0},
		{"org names equal after suffixes, same district", org(1, "杭州云栖科技有限公司", "西湖区"), org(2, "云栖科技股份有限公司", "西湖区"),
			true, []string{ReasonName, ReasonDistrict}, 90},
		{"org names similar, same district", org(1, "云栖智能数据科技研究院", "西湖区"), org(2, "云栖智能数据科技研究所", "西湖区"),
			true, []string{ReasonNameSimilar, ReasonDistrict}, 80},
		{"org names equal, other district", org(1, "云栖科技有限公司", "西湖区"), org(2, "云栖科技有限公司", "滨江区"), false, nil, 0},
		{"org names different, same district", org(1, "云栖科技有限公司", "西湖区"), org(2, "钱塘贸易有限公司", "西湖区"), false, nil, 0},
		{"persons same name same district", person(1, "张伟", "西湖区", ""), person(2, "张伟", "西湖区", ""), false, nil, 0},
		{"persons same name same address", person(1, "王芳", "西湖区", "addr"), person(2, "王芳", "西湖区", "addr"),
			true, []string{ReasonName, ReasonAddress}, 95},
		{"persons other name same address", person(1, "王芳", "西湖区", "addr"), person(2, "李娜", "西湖区", "addr"), false, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.a.prepare(nr)
			tc.b.prepare(nr)
			m, ok := matchPair(tc.a, tc.b)
			if ok != tc.ok || !slices.Equal(m.Reasons, tc.reasons) || m.Score != tc.score {
				t.Fatalf("matchPair = %+v, %v; want %v %v %v", m, ok, tc.reasons, tc.score, tc.ok)
			}
			m2, ok2 := matchPair(tc.b, tc.a)
			if ok2 != ok || m2.Score != m.Score {
				t.Fatalf("not symmetric: %+v %v", m2, ok2)
			}
		})
	}
}

func TestFillFrom(t *testing.T) {
	sv := custRow{ID: 1, Name: "A", MobileEnc: "enc-a", MobileBidx: "ba", MobileL4: "la", Tags: `["x"]`,
		Qualifications: "[]", CreditFacts: zeroFactsJSON, City: "Hangzhou", OwnerID: 5, DeptID: 6}
	md := custRow{ID: 2, Name: "B", MobileEnc: "enc-b", MobileBidx: "bb", Email: "b@example.com", IDNumberEnc: "enc-id",
		IDNumberBidx: "bid", Province: "Zhejiang", City: "Ningbo", District: "Haishu", AddressEnc: "enc-addr", AddressBidx: "baddr",
		Tags: `["y","x"]`, Qualifications: `["ISO"]`, CreditFacts: toJSON(CreditFacts{StrongCapital: true}), OwnerID: 7, DeptID: 8,
		TerritoryID: 9, SizeEmployees: 10}
	filled := fillFrom(&sv, &md)
	want := []string{"email", "id_number", "size_employees", "qualifications", "credit_facts", "territory", "tags"}
	if !slices.Equal(filled, want) {
		t.Fatalf("filled = %v, want %v", filled, want)
	}
	if sv.MobileEnc != "enc-a" || sv.Email != "b@example.com" || sv.IDNumberEnc != "enc-id" || sv.IDNumberBidx != "bid" {
		t.Fatalf("identifiers: %+v", sv)
	}
	if sv.City != "Hangzhou" || sv.Province != "" || sv.AddressEnc != "" {
		t.Fatalf("address must be taken whole or not at all: %+v", sv)
	}
	if sv.OwnerID != 5 || sv.DeptID != 6 || sv.TerritoryID != 9 || sv.Tags != `["x","y"]` {
		t.Fatalf("owner/territory/tags: %+v", sv)
	}
}
