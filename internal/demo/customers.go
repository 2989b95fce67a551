package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
)

// Demo customers (data/customers.json): persons and organisations across several
// provinces, with valid resident ID numbers (region code of their district, birth date,
// sex), valid unified social credit codes, mobiles and landlines, contacts and key
// persons, owners among the demo agents and sales staff, relationship dates, credit
// facts and transactions. Every customer follows a profile chosen so that the default
// classification rules (internal/customer/classify) give every tier, value class and
// credit grade:
//
//	value profile  transactions (as of the seeding day)                 value class / tier
//	core           12-18 in the last 12 months, the last <= 25 days ago  core / VIP
//	important      4-7 in the last 12 months, the last 31-85 days ago     important / regular
//	general        1-2 in the last 12 months, the last 120-300 days ago   general / regular
//	churned        2-6, the last 400-1000 days ago                        churned / regular
//	prospect       none                                                   general / potential
//
// Credit: about one customer in seven has a C fact (grade C); the others are A when the
// relationship is more than two years old (cooperation, and two years of it without bad
// debt, are two A conditions) and B when it is under one year (no A condition yet).

// customerData is data/customers.json.
type customerData struct {
	Count       int      `json:"count"`
	Seed        uint64   `json:"seed"`
	Owners      []string `json:"owners"`
	Surnames    []string `json:"surnames"`
	GivenMale   []string `json:"given_male"`
	GivenFemale []string `json:"given_female"`
	Places      []place  `json:"places"`
	PersonAddr  []string `json:"person_address"`
	OrgAddr     []string `json:"org_address"`
	Communities []string `json:"communities"`
	Buildings   []string `json:"buildings"`
	BrandWords  []string `json:"brand_words"`
	Forms       []string `json:"forms"`
	Industries  []struct {
		Name           string   `json:"name"`
		Business       []string `json:"business"`
		Qualifications []string `json:"qualifications"`
	} `json:"industries"`
	PersonIndustries []string          `json:"person_industries"`
	Sources          []string          `json:"sources"`
	Tags             []string          `json:"tags"`
	KeyTitles        []string          `json:"key_titles"`
	FamilyTitles     []string          `json:"family_titles"`
	ContactTitles    []string          `json:"contact_titles"`
	Preferences      []string          `json:"preferences"`
	Banks            []string          `json:"banks"`
	BankBranch       string            `json:"bank_branch"`
	CreditStatus     map[string]string `json:"credit_status"`
	TradingTerms     []string          `json:"trading_terms"`
	ServiceRegions   map[string]string `json:"service_regions"`
	PersonNotes      []string          `json:"person_notes"`
	OrgNotes         []string          `json:"org_notes"`
	TxNotes          map[string]string `json:"transaction_notes"`
}

type place struct {
	Province  string `json:"province"`
	City      string `json:"city"`
	Short     string `json:"short"`
	Region    string `json:"region"`
	AreaCode  string `json:"area_code"`
	Districts []struct {
		Name string `json:"name"`
		Code string `json:"code"`
	} `json:"districts"`
	Streets []string `json:"streets"`
}

func loadCustomers() (customerData, error) {
	var d customerData
	b, err := dataFS.ReadFile("data/customers.json")
	if err != nil {
		return d, fmt.Errorf("demo: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("demo: data/customers.json: %w", err)
	}
	if d.Count <= 0 || len(d.Owners) == 0 || len(d.Places) == 0 || len(d.Surnames) == 0 || len(d.Industries) == 0 {
		return d, fmt.Errorf("demo: data/customers.json: incomplete")
	}
	return d, nil
}

// Value profiles of the demo customers.
const (
	profileCore      = "core"
	profileImportant = "important"
	profileGeneral   = "general"
	profileChurned   = "churned"
	profileProspect  = "prospect"
)

// Transaction is one demo transaction of a customer (RFM input).
type Transaction struct {
	On        string // YYYY-MM-DD
	Kind      string // order, renewal, repair, refund
	AmountFen int64
	Note      string
}

// CustomerPlan is one generated demo customer: the create input (OwnerID left 0; Owner
// names the demo account), its transactions and the classification its facts should
// give under the default rules.
type CustomerPlan struct {
	Input        customer.Input
	Owner        string
	Transactions []Transaction
	Profile      string
	WantValue    string
	WantTier     string
	WantGrade    string
}

// Generator draws demo customers, deterministically for a seed and a day. Beyond the
// 500 of the demo dataset it serves load tests (bench/): identity data stay valid and
// unique however many are drawn; organisation names repeat once the combinations of
// data/customers.json run out.
type Generator struct {
	d       customerData
	r       *rand.Rand
	today   time.Time // the day of now in China, at 00:00 UTC
	i       int
	mobiles map[string]bool
	phones  map[string]bool
	codes   map[string]bool
	ids     map[string]bool
	names   map[string]bool
	email   int
}

// NewGenerator returns a generator of customers dated relative to the day of now (in
// China). seed 0 takes the seed of data/customers.json (the demo dataset).
func NewGenerator(now time.Time, seed uint64) (*Generator, error) {
	d, err := loadCustomers()
	if err != nil {
		return nil, err
	}
	if seed == 0 {
		seed = d.Seed
	}
	y, m, day := now.In(chinaZone).Date()
	return &Generator{d: d, r: rand.New(rand.NewPCG(seed, seed^0x5eed)), today: time.Date(y, m, day, 0, 0, 0, 0, time.UTC),
		mobiles: map[string]bool{}, phones: map[string]bool{}, codes: map[string]bool{}, ids: map[string]bool{},
		names: map[string]bool{}}, nil
}

// Next returns the next customer.
func (g *Generator) Next() CustomerPlan {
	p := g.customer(g.i)
	g.i++
	return p
}

// PlanCustomers generates the demo customers for the day of now (in China): the same
// day always gives the same customers.
func PlanCustomers(now time.Time) ([]CustomerPlan, error) {
	g, err := NewGenerator(now, 0)
	if err != nil {
		return nil, err
	}
	out := make([]CustomerPlan, 0, g.d.Count)
	for range g.d.Count {
		out = append(out, g.Next())
	}
	return out, nil
}

var chinaZone = time.FixedZone("CST", 8*3600)

func (g *Generator) pick(list []string) string { return list[g.r.IntN(len(list))] }

// skewed picks from a list ordered by frequency: the head is chosen far more often.
func (g *Generator) skewed(list []string) string {
	f := g.r.Float64()
	return list[int(f*f*float64(len(list)))]
}

func (g *Generator) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g *Generator) daysAgo(n int) string { return g.today.AddDate(0, 0, -n).Format("2006-01-02") }

func (g *Generator) mobile() string {
	for {
		m := cnid.GenerateMobile(g.r)
		if !g.mobiles[m] {
			g.mobiles[m] = true
			return m
		}
	}
}

func (g *Generator) landline(p place) string {
	for {
		n := p.AreaCode + "-" + strconv.Itoa(g.between(2, 8)) + fmt.Sprintf("%07d", g.r.IntN(10_000_000))
		if !g.phones[n] {
			g.phones[n] = true
			return n
		}
	}
}

func (g *Generator) emailAddr() string {
	g.email++
	return fmt.Sprintf("kf%d%03d@example.com", 100000+g.r.IntN(900000), g.email)
}

func fill(tmpl string, kv ...string) string { return strings.NewReplacer(kv...).Replace(tmpl) }

func (g *Generator) profile(i int) string {
	// A fixed cycle keeps the mix exact: per 20 customers 3 core, 5 important, 5 general,
	// 3 churned and 4 prospects.
	cycle := [...]string{profileCore, profileImportant, profileGeneral, profileProspect, profileChurned,
		profileImportant, profileGeneral, profileCore, profileProspect, profileImportant,
		profileGeneral, profileChurned, profileImportant, profileProspect, profileGeneral,
		profileCore, profileImportant, profileGeneral, profileChurned, profileProspect}
	return cycle[i%len(cycle)]
}

func (g *Generator) customer(i int) CustomerPlan {
	d := g.d
	p := d.Places[g.r.IntN(len(d.Places))]
	dist := p.Districts[g.r.IntN(len(p.Districts))]
	isOrg := g.r.IntN(100) < 40
	plan := CustomerPlan{Owner: d.Owners[i%len(d.Owners)], Profile: g.profile(i)}
	in := customer.Input{Province: p.Province, City: p.City, District: dist.Name, Region: p.Region,
		Source: g.pick(d.Sources)}
	street, no := g.pick(p.Streets), strconv.Itoa(g.between(1, 999))
	if isOrg {
		in.Kind = customer.KindOrg
		ind := d.Industries[g.r.IntN(len(d.Industries))]
		for try := 0; ; try++ {
			in.Name = p.Short + g.pick(d.BrandWords) + g.pick(ind.Business) + g.pick(d.Forms)
			if !g.names[in.Name] || try == 20 {
				g.names[in.Name] = true
				break
			}
		}
		for {
			in.CreditCode = cnid.GenerateUSCC(g.r)
			if !g.codes[in.CreditCode] {
				g.codes[in.CreditCode] = true
				break
			}
		}
		in.Industry = ind.Name
		in.Phone = g.landline(p)
		if g.r.IntN(2) == 0 {
			in.Mobile = g.mobile()
		}
		in.Email = g.emailAddr()
		in.Address = fill(g.pick(d.OrgAddr), "{street}", street, "{no}", no, "{building}", g.pick(d.Buildings),
			"{floor}", strconv.Itoa(g.between(2, 38)), "{community}", g.pick(d.Communities))
		in.SizeEmployees = int64(g.skewedInt(10, 5000))
		in.AnnualSalesFen = int64(g.skewedInt(50, 50000)) * 10_000 * 100 // 0.5 to 500 million yuan
		in.FoundedOn = g.daysAgo(g.between(3*365, 25*365))
		for _, q := range ind.Qualifications {
			if g.r.IntN(2) == 0 {
				in.Qualifications = append(in.Qualifications, q)
			}
		}
		in.ServiceRegion = d.ServiceRegions[p.Region]
		in.TradingTerms = g.pick(d.TradingTerms)
		in.CooperationAttitude = []string{customer.AttitudePositive, customer.AttitudePositive, customer.AttitudeNeutral,
			customer.AttitudeNegative}[g.r.IntN(4)]
		in.BankName = fill(d.BankBranch, "{bank}", g.pick(d.Banks), "{city}", p.Short)
		in.BankAccount = fmt.Sprintf("%04d %04d %04d %04d", 6000+g.r.IntN(4000), g.r.IntN(10000), g.r.IntN(10000), g.r.IntN(10000))
		in.Notes = g.pick(d.OrgNotes)
		in.Contacts = g.orgContacts(p)
	} else {
		in.Kind = customer.KindPerson
		male := g.r.IntN(2) == 0
		given := d.GivenFemale
		if male {
			given = d.GivenMale
		}
		in.Name = g.skewed(d.Surnames) + g.pick(given)
		if g.r.IntN(3) > 0 {
			in.Name += g.pick(given)
		}
		birth := g.today.AddDate(-g.between(20, 70), 0, -g.r.IntN(365))
		for {
			in.IDNumber = cnid.GenerateResidentID(g.r, dist.Code, birth, male)
			if !g.ids[in.IDNumber] {
				g.ids[in.IDNumber] = true
				break
			}
			birth = birth.AddDate(0, 0, -1)
		}
		in.Mobile = g.mobile()
		if g.r.IntN(4) == 0 {
			in.Phone = g.landline(p)
		}
		if g.r.IntN(2) == 0 {
			in.Email = g.emailAddr()
		}
		in.Industry = g.pick(d.PersonIndustries)
		in.Address = fill(g.pick(d.PersonAddr), "{street}", street, "{no}", no, "{building}", strconv.Itoa(g.between(1, 30)),
			"{unit}", strconv.Itoa(g.between(1, 6)), "{room}", strconv.Itoa(g.between(1, 32)*100+g.between(1, 4)),
			"{community}", g.pick(d.Communities))
		if g.r.IntN(3) == 0 {
			in.Notes = g.pick(d.PersonNotes)
		}
		if g.r.IntN(5) == 0 {
			in.Contacts = []customer.ContactInput{{Name: g.skewed(d.Surnames) + g.pick(d.GivenFemale) + g.pick(d.GivenMale),
				Title: g.pick(d.FamilyTitles), Mobile: g.mobile()}}
		}
	}
	for _, t := range d.Tags {
		if g.r.IntN(6) == 0 && len(in.Tags) < 3 {
			in.Tags = append(in.Tags, t)
		}
	}
	g.history(&plan, &in, isOrg)
	plan.Input = in
	return plan
}

// skewedInt draws from [lo, hi] with small values far more likely.
func (g *Generator) skewedInt(lo, hi int) int {
	f := g.r.Float64()
	return lo + int(f*f*f*float64(hi-lo))
}

func (g *Generator) orgContacts(p place) []customer.ContactInput {
	d := g.d
	person := func() string {
		return g.skewed(d.Surnames) + g.pick(append(d.GivenMale[:len(d.GivenMale):len(d.GivenMale)], d.GivenFemale...))
	}
	cs := []customer.ContactInput{{Name: person() + g.pick(d.GivenMale), Title: g.pick(d.KeyTitles), IsKeyPerson: true,
		Mobile: g.mobile(), Email: g.emailAddr(), Preferences: g.pick(d.Preferences),
		Birthday: fmt.Sprintf("%02d-%02d", g.between(1, 12), g.between(1, 28))}}
	for range g.between(0, 2) {
		ct := customer.ContactInput{Name: person() + g.pick(d.GivenFemale), Title: g.pick(d.ContactTitles), Mobile: g.mobile()}
		if g.r.IntN(2) == 0 {
			ct.Phone = g.landline(p)
		}
		if g.r.IntN(2) == 0 {
			ct.Email = g.emailAddr()
		}
		cs = append(cs, ct)
	}
	return cs
}

// history sets the relationship date, credit facts and transactions of a profile.
func (g *Generator) history(plan *CustomerPlan, in *customer.Input, isOrg bool) {
	d := g.d
	// Amounts per transaction in yuan, by profile and kind (see the table above: they
	// keep the RFM sum inside the profile's class and persons below the VIP threshold).
	type span struct{ lo, hi int }
	var count, lastLo, lastHi int
	var amount span
	switch plan.Profile {
	case profileCore:
		count, lastLo, lastHi, amount = g.between(12, 18), 0, 25, span{1500, 4000}
		if isOrg {
			amount = span{50000, 150000}
		}
	case profileImportant:
		count, lastLo, lastHi, amount = g.between(4, 7), 31, 85, span{3000, 6000}
		if isOrg {
			amount = span{10000, 35000}
		}
	case profileGeneral:
		count, lastLo, lastHi, amount = g.between(1, 2), 120, 300, span{200, 3000}
		if isOrg {
			amount = span{2000, 4500}
		}
	case profileChurned:
		count, lastLo, lastHi, amount = g.between(2, 6), 400, 1000, span{500, 20000}
	}
	last := g.between(lastLo, lastHi)
	// Relationship: long (> 2 years: credit A without C facts) or new (< 1 year: B).
	long := plan.Profile == profileChurned || plan.Profile != profileProspect && g.r.IntN(100) < 65
	var since int // days ago
	switch {
	case long:
		since = max(last+30, g.between(760, 6*365))
	case plan.Profile == profileProspect:
		since = g.between(0, 300)
	default:
		since = g.between(max(last+10, 200), 360)
	}
	if plan.Profile == profileProspect && g.r.IntN(4) == 0 {
		in.RelationshipSince = "" // a prospect not yet in a relationship
	} else {
		in.RelationshipSince = g.daysAgo(since)
	}
	// Transactions: the last one first, the others spread inside the last 12 months
	// (older for churned customers), never before the relationship began.
	if count > 0 {
		oldest := min(since, 340) // inside the 12-month window
		if plan.Profile == profileChurned {
			oldest = since
		}
		days := []int{last}
		for len(days) < count {
			days = append(days, last+g.r.IntN(oldest-last+1))
		}
		kinds := []string{"order", "order", "renewal", "repair"}
		for _, n := range days {
			k := g.pick(kinds)
			plan.Transactions = append(plan.Transactions, Transaction{On: g.daysAgo(n), Kind: k,
				AmountFen: int64(g.between(amount.lo, amount.hi)) * 100, Note: d.TxNotes[k]})
		}
		if plan.Profile == profileCore && g.r.IntN(4) == 0 {
			// A partial refund of a recent order.
			t := plan.Transactions[0]
			plan.Transactions = append(plan.Transactions, Transaction{On: t.On, Kind: "refund",
				AmountFen: -t.AmountFen / 10, Note: d.TxNotes["refund"]})
		}
	}
	// Credit facts: C facts for about one in seven, A facts on some long relationships.
	var cf customer.CreditFacts
	hasC := g.r.IntN(7) == 0
	if hasC {
		switch g.r.IntN(5) {
		case 0:
			cf.BadDebt2Y = true
		case 1:
			cf.BrokenPromises = true
		case 2:
			cf.DebtDisputes = true
		case 3:
			cf.LossesOrDecline = true
		default:
			cf.AccountsAtRisk = true
		}
		in.CreditStatus = d.CreditStatus["bad"]
	} else if long && isOrg {
		cf.GoodOperations2Y = g.r.IntN(2) == 0
		cf.StrongCapital = g.r.IntN(3) == 0
		cf.PaymentsOnStandard = g.r.IntN(2) == 0
		in.CreditStatus = d.CreditStatus["good"]
	} else if isOrg {
		in.CreditStatus = d.CreditStatus["normal"]
	}
	in.CreditFacts = &cf

	plan.WantValue = map[string]string{profileCore: customer.ValueCore, profileImportant: customer.ValueImportant,
		profileGeneral: customer.ValueGeneral, profileChurned: customer.ValueChurned, profileProspect: customer.ValueGeneral}[plan.Profile]
	switch {
	case plan.Profile == profileProspect:
		plan.WantTier = customer.TierPotential
	case plan.Profile == profileCore:
		plan.WantTier = customer.TierVIP
	default:
		plan.WantTier = customer.TierRegular
	}
	switch {
	case hasC:
		plan.WantGrade = customer.GradeC
	case long || since >= 731:
		plan.WantGrade = customer.GradeA
	default:
		plan.WantGrade = customer.GradeB
	}
}

// seedCustomers adds the demo customers in one transaction when the demo accounts that
// own them exist and no customer does yet.
func seedCustomers(ctx context.Context, d Deps) error {
	if d.Customer == nil {
		return nil
	}
	data, err := loadCustomers()
	if err != nil {
		return err
	}
	owners := map[string]int64{}
	for _, u := range data.Owners {
		st, err := d.Org.StaffByUsername(ctx, u)
		if apperr.KindOf(err) == apperr.NotFound {
			return nil // not a demo organisation: leave its customers alone
		}
		if err != nil {
			return fmt.Errorf("demo: owner %s: %w", u, err)
		}
		owners[u] = st.ID
	}
	existing, err := d.Customer.ListCustomers(ctx, customer.Filter{Status: customer.StatusAll}, 1, "")
	if err != nil {
		return fmt.Errorf("demo: customers: %w", err)
	}
	if len(existing.Items) > 0 {
		return nil
	}
	clk := d.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	plans, err := PlanCustomers(clk.Now())
	if err != nil {
		return err
	}
	return d.Org.Atomically(ctx, func(ctx context.Context) error {
		for i := range plans {
			p := &plans[i]
			p.Input.OwnerID = owners[p.Owner]
			c, err := d.Customer.CreateCustomer(ctx, p.Input)
			if err != nil {
				return fmt.Errorf("demo: customer %d (%s): %w", i, p.Input.Name, err)
			}
			// Each transaction re-evaluates the customer (tier, value class, credit
			// grade with their reasons) in this transaction.
			for j, t := range p.Transactions {
				amount := t.AmountFen
				in := customer.TransactionInput{Date: t.On, AmountFen: &amount, Note: t.Note,
					Ref: fmt.Sprintf("DEMO-%04d-%02d", i+1, j+1)}
				if _, err := d.Customer.AddTransaction(ctx, c.ID, in); err != nil {
					return fmt.Errorf("demo: transaction %d of customer %d: %w", j, i, err)
				}
			}
		}
		return nil
	})
}
