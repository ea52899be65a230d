// Package browsertest loads the page of package actionsdebug in a headless
// Chromium, through chromedp, and checks what the browser renders: the
// orphan flag, the listeners in run order, the plugin tags, the invocations
// in flight. It is
// a module of its own so that the library keeps to the standard library.
//
// The test needs Chromium (Debian's chromium package) or Chrome: it looks
// for chromium, chromium-browser or google-chrome on the PATH. When none
// can be found or started, the test fails with the reason. On a machine
// without a browser, set ACTIONS_NO_BROWSER=1 to skip it instead:
//
//	ACTIONS_NO_BROWSER=1 go test ./...
//
// The test saves a full-page screenshot (PNG) in its temporary directory;
// with ACTIONSDEBUG_SCREENSHOT=PATH it writes it to PATH too, which is how
// the README's image is made (from the repository's root):
//
//	(cd actionsdebug/browsertest && ACTIONSDEBUG_SCREENSHOT=$PWD/../../docs/debug-page.png go test -count=1 ./...)
package browsertest
