// Command ratios turns the CSV output of benchstat into one table per group
// of benchmarks: each row's median ns/op with benchstat's 95% confidence
// interval, its ratio to the baseline row of its group at the same
// GOMAXPROCS, its ratio to its own GOMAXPROCS=1 figure, B/op, allocs/op and
// any other unit the benchmarks report (churns/op).
//
//	benchstat -format csv raw.txt | go run ./cmd/ratios [-md] [-base direct]
//
// A benchmark name's last element, key=value (peer=direct, impl=actions),
// names the row by its value; the rest and the key name the group
// (Invoke/scenario=chain1/peer). A group
// without a baseline row (churn, which the baseline cannot run) takes its
// ratio from the baseline of the group named by -fallback, and says so.
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

type key struct {
	group, row string
	procs      int
}

type stat struct {
	median float64
	ci     string
}

// procsSuffix is the -N that testing appends to a name when GOMAXPROCS > 1.
var procsSuffix = regexp.MustCompile(`-(\d+)$`)

func main() {
	md := flag.Bool("md", false, "print markdown")
	base := flag.String("base", "direct", "the row value every ratio is taken against")
	fallback := flag.String("fallback", "scenario=churn:scenario=chain1",
		"comma-separated from:to replacements naming, for a group without a baseline, the group whose baseline to use")
	flag.Parse()

	in := io.Reader(os.Stdin)
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		in = f
	}
	data, groups, rows, units, err := parse(in)
	if err != nil {
		fatal(err)
	}
	if len(data) == 0 {
		fatal(fmt.Errorf("no benchmark rows in the input"))
	}

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, g := range groups {
		baseGroup, note, same := g, "", ""
		if !hasRow(data, g, *base) {
			for _, pair := range strings.Split(*fallback, ",") {
				from, to, ok := strings.Cut(pair, ":")
				if ok && strings.Contains(g, from) {
					baseGroup = strings.Replace(g, from, to, 1)
					note = fmt.Sprintf(" (no %s here: ratios to %s=%s)", *base, baseGroup, *base)
					same = to
				}
			}
		}
		var extra []string
		for _, u := range units {
			if u != "sec/op" && u != "B/op" && u != "allocs/op" && groupHasUnit(data, g, u) {
				extra = append(extra, u)
			}
		}
		header := []string{"", "procs", "ns/op", "±", "×" + *base, "×procs=1", "B/op", "allocs/op"}
		if same != "" {
			// The same row in the fallback group: churn against its own chain1.
			header = append(header, "×"+same)
		}
		header = append(header, extra...)
		var table [][]string
		for _, r := range rows[g] {
			for _, procs := range procsOf(data, g, r) {
				s := data[key{g, r, procs}]
				ns := s["sec/op"]
				row := []string{r, strconv.Itoa(procs), num(ns.median * 1e9), ns.ci,
					ratio(ns.median, data[key{baseGroup, *base, procs}]["sec/op"].median), "-",
					count(s["B/op"]), count(s["allocs/op"])}
				if procs != 1 {
					row[5] = ratio(ns.median, data[key{g, r, 1}]["sec/op"].median)
				}
				if same != "" {
					row = append(row, ratio(ns.median, data[key{baseGroup, r, procs}]["sec/op"].median))
				}
				for _, u := range extra {
					row = append(row, num(s[u].median))
				}
				table = append(table, row)
			}
		}
		if *md {
			fmt.Fprintf(out, "\n#### %s%s\n\n| %s |\n|%s\n", g, note, strings.Join(header, " | "), strings.Repeat("---|", len(header)))
			for _, row := range table {
				fmt.Fprintf(out, "| %s |\n", strings.Join(row, " | "))
			}
			continue
		}
		fmt.Fprintf(out, "\n== %s%s\n", g, note)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, row := range append([][]string{header}, table...) {
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		tw.Flush()
	}
}

// parse reads benchstat's CSV: for each unit, a ",<unit>,CI" line followed by
// "name,median,CI" rows. Groups and rows keep the order they first appear in.
func parse(in io.Reader) (data map[key]map[string]stat, groups []string, rows map[string][]string, units []string, err error) {
	data, rows = map[key]map[string]stat{}, map[string][]string{}
	r := csv.NewReader(bufio.NewReader(in))
	r.FieldsPerRecord = -1
	unit := ""
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return data, groups, rows, units, nil
		}
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if len(rec) < 3 {
			continue
		}
		if rec[0] == "" && rec[2] == "CI" {
			unit = rec[1]
			if !slices.Contains(units, unit) {
				units = append(units, unit)
			}
			continue
		}
		v, perr := strconv.ParseFloat(rec[1], 64)
		if unit == "" || perr != nil || rec[0] == "geomean" {
			continue
		}
		name, procs := rec[0], 1
		if m := procsSuffix.FindStringSubmatch(name); m != nil {
			procs, _ = strconv.Atoi(m[1])
			name = strings.TrimSuffix(name, m[0])
		}
		i := strings.LastIndex(name, "/")
		if i < 0 || !strings.Contains(name[i:], "=") {
			continue // not a group/key=value benchmark
		}
		// The group keeps the row's key, so that rows of two suites in one
		// input (impl=direct, peer=direct) never mix.
		k, row, _ := strings.Cut(name[i+1:], "=")
		g := name[:i+1] + k
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
		if !slices.Contains(rows[g], row) {
			rows[g] = append(rows[g], row)
		}
		at := key{g, row, procs}
		if data[at] == nil {
			data[at] = map[string]stat{}
		}
		data[at][unit] = stat{v, rec[2]}
	}
}

func hasRow(data map[key]map[string]stat, g, row string) bool {
	for k := range data {
		if k.group == g && k.row == row {
			return true
		}
	}
	return false
}

func groupHasUnit(data map[key]map[string]stat, g, unit string) bool {
	for k, s := range data {
		if _, ok := s[unit]; ok && k.group == g {
			return true
		}
	}
	return false
}

func procsOf(data map[key]map[string]stat, g, row string) []int {
	var out []int
	for k := range data {
		if k.group == g && k.row == row {
			out = append(out, k.procs)
		}
	}
	slices.Sort(out)
	return out
}

func ratio(v, base float64) string {
	if base <= 0 {
		return "-"
	}
	return strconv.FormatFloat(v/base, 'f', 2, 64)
}

func count(s stat) string {
	if s.median == float64(int64(s.median)) {
		return strconv.FormatInt(int64(s.median), 10)
	}
	return strconv.FormatFloat(s.median, 'f', 1, 64)
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ratios:", err)
	os.Exit(1)
}
