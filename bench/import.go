package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
)

// importColumns are the import file's columns (catalog keys customer.col.<key>, the
// headers of the import template) in file order.
var importColumns = []string{"kind", "name", "mobile", "phone", "email", "id_number", "credit_code", "province", "city",
	"district", "address", "industry", "tags", "notes", "relationship_since", "region", "source", "size_employees",
	"annual_sales", "founded_on", "qualifications", "service_region", "credit_status", "trading_terms",
	"cooperation_attitude", "bank_name", "bank_account"}

// writeImportFile writes n generated customers as an .xlsx import file with Chinese
// headers and labels, through platform/tabular's streaming writer.
func writeImportFile(path string, n int, seed uint64) error {
	cat := i18n.MustLoad()
	zh := func(key string) string { return cat.T(i18n.ZhCN, key, nil) }
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := tabular.NewWriter(f, tabular.XLSX, "customers")
	if err != nil {
		return err
	}
	header := make([]string, len(importColumns))
	for i, k := range importColumns {
		header[i] = zh("customer.col." + k)
	}
	if err := w.WriteHeader(header); err != nil {
		return err
	}
	g, err := demo.NewGenerator(time.Now(), seed)
	if err != nil {
		return err
	}
	row := make([]any, len(importColumns))
	for range n {
		in := g.Next().Input
		sales := ""
		if in.AnnualSalesFen > 0 {
			sales = strconv.FormatInt(in.AnnualSalesFen/100, 10)
		}
		size := ""
		if in.SizeEmployees > 0 {
			size = strconv.FormatInt(in.SizeEmployees, 10)
		}
		attitude := ""
		if in.CooperationAttitude != "" {
			attitude = zh("customer.attitude." + in.CooperationAttitude)
		}
		vals := []string{zh("customer.kind." + in.Kind), in.Name, in.Mobile, in.Phone, in.Email, in.IDNumber, in.CreditCode,
			in.Province, in.City, in.District, in.Address, in.Industry, strings.Join(in.Tags, ","), in.Notes,
			in.RelationshipSince, in.Region, in.Source, size, sales, in.FoundedOn, strings.Join(in.Qualifications, ","),
			in.ServiceRegion, in.CreditStatus, in.TradingTerms, attitude, in.BankName, in.BankAccount}
		for i, v := range vals {
			row[i] = v
		}
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

// benchImport is the SPEC §4.2 import measurement: o.Rows rows from .xlsx (100,000 in
// < 60 s with < 500 MB). The file is generated first; then the process's peak RSS is
// reset (/proc/self/clear_refs) and the import runs through customer.Service
// .ImportCustomers as the web upload and `kefu import customers` do: every row
// validated first, then all written in one transaction.
func benchImport(ctx context.Context, s *server, o options, w io.Writer) error {
	path := filepath.Join(s.dir, "customers.xlsx")
	start := time.Now()
	if err := writeImportFile(path, o.Rows, o.Seed+2); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "import-customers: %d rows, %.1f MB .xlsx written in %.1f s\n", o.Rows, float64(st.Size())/1e6,
		time.Since(start).Seconds())
	actx, err := s.adminCtx(ctx)
	if err != nil {
		return err
	}
	actx = httpx.WithCatalog(i18n.WithLang(actx, i18n.ZhCN), s.app.Catalog)
	for _, dry := range []bool{true, false} {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		runtime.GC()
		debug.FreeOSMemory()
		base := procStatus("VmRSS")
		resetPeakRSS()
		t0 := time.Now()
		res, err := s.app.Customer.ImportCustomers(actx, f, st.Size(), tabular.XLSX,
			customer.ImportOptions{DryRun: dry, FileName: "customers.xlsx"})
		took := time.Since(t0)
		f.Close()
		if err != nil {
			return err
		}
		if !res.OK() {
			for i, e := range res.Errors {
				if i == 5 {
					break
				}
				fmt.Fprintf(w, "  row %d %s: %s\n", e.Row, e.Column, s.app.Catalog.T(i18n.ZhCN, e.Msg.Key, e.Msg.Args))
			}
			return fmt.Errorf("import: %d of %d rows failed", res.Failed, res.Rows)
		}
		what := fmt.Sprintf("imported %d customers", res.Created)
		if dry {
			what = fmt.Sprintf("dry run checked %d rows", res.Rows)
		}
		fmt.Fprintf(w, "  %s in %.1f s (%.0f rows/s); process RSS %d MB before, peak %d MB during\n", what,
			took.Seconds(), float64(res.Rows)/took.Seconds(), base/1024, procStatus("VmHWM")/1024)
	}
	s.checkpoint(ctx)
	fmt.Fprintf(w, "  database %.1f MB\n", float64(s.dbBytes())/1e6)
	return nil
}

// resetPeakRSS resets the kernel's peak RSS (VmHWM) of this process.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
