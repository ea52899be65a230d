package actions

import (
	"runtime"
	"strconv"
	"strings"
)

// callerSite returns where the caller of the function that calls it was
// called from, skip frames further up (skip 0: the caller's caller), as
// "dir/file.go:line": the file's base name under the last element of its
// directory, e.g. "contactcenter/plugin_crm.go:41", which names the package
// in a listing without the machine's paths. It returns "" when the stack
// has no such frame. It runs once per registration, never when invoking.
func callerSite(skip int) string {
	_, file, line, ok := runtime.Caller(skip + 2)
	if !ok {
		return ""
	}
	return shortFile(file) + ":" + strconv.Itoa(line)
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
