package actions

import (
	"runtime"
	"strconv"
	"strings"
)

// site is where a registration was made: the program counter of the user's
// call, kept as it is and turned into "dir/file.go:line" only when asked
// (String), so that registering costs one short stack read and no string.
type site uintptr

// callerSite returns where the caller of the function that calls it was
// called from, skip frames further up (skip 0: the caller's caller). It runs
// once per registration, never when invoking.
func callerSite(skip int) site {
	var pcs [1]uintptr
	if runtime.Callers(skip+3, pcs[:]) == 0 {
		return 0
	}
	return site(pcs[0])
}

// String returns the site as "dir/file.go:line": the file's base name under
// the last element of its directory, e.g. "contactcenter/plugin_crm.go:41",
// which names the package in a listing without the machine's paths; "" for
// no site.
func (s site) String() string {
	if s == 0 {
		return ""
	}
	f, _ := runtime.CallersFrames([]uintptr{uintptr(s)}).Next()
	if f.File == "" {
		return ""
	}
	return shortFile(f.File) + ":" + strconv.Itoa(f.Line)
}

// shortFile returns file's last two elements, "dir/file.go", or file itself
// when it has fewer. runtime reports paths with forward slashes on every
// system.
func shortFile(file string) string {
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		if j := strings.LastIndexByte(file[:i], '/'); j >= 0 {
			return file[j+1:]
		}
	}
	return file
}
