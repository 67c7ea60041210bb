package transport

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The pages are tested in a real headless Chromium (Debian's chromium,
// which .ci/run installs), driven with chromedp. One browser runs for the
// package's tests, started on first use; each test gets browser contexts of
// its own (their own cookies and storage: two people, or one after a
// reload). Without a Chromium the browser tests skip with a loud message,
// unless PARLEY_REQUIRE_BROWSER is set (as CI sets it): then they fail.

var chromium struct {
	once   sync.Once
	alloc  context.Context
	root   context.Context
	cancel []context.CancelFunc
	err    error
}

// chromiumPath finds a Chromium or Chrome to drive.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser returns a fresh browser context: a person's browser with
// nothing stored. It is closed when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	chromium.once.Do(startChromium)
	if chromium.err != nil {
		if os.Getenv("PARLEY_REQUIRE_BROWSER") != "" {
			t.Fatalf("no browser: %v", chromium.err)
		}
		t.Skipf("SKIPPED: the browser tests need Chromium (apt-get install -y chromium): %v", chromium.err)
	}
	ctx, cancel := chromedp.NewContext(chromium.root, chromedp.WithNewBrowserContext())
	ctx, timeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		timeout()
		cancel()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("a browser context: %v", err)
	}
	return ctx
}

func startChromium() {
	path := chromiumPath()
	if path == "" {
		chromium.err = errNoChromium
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	chromium.alloc, chromium.root = alloc, root
	chromium.cancel = []context.CancelFunc{cancelRoot, cancelAlloc}
	if err := chromedp.Do(root); err != nil {
		chromium.err = err
	}
}

// stopChromium closes the browser, if one was started; TestMain calls it.
func stopChromium() {
	if chromium.root == nil {
		return
	}
	ctx, cancel := context.WithTimeout(chromium.root, 10*time.Second)
	defer cancel()
	_ = chromedp.Cancel(ctx)
	for _, c := range chromium.cancel {
		c()
	}
}

type browserError string

func (e browserError) Error() string { return string(e) }

const errNoChromium = browserError("no chromium, chromium-browser or google-chrome on PATH")

// screenshot saves the page of ctx as test-output/screenshots/<name>.png at
// the top of the repository, for people to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	savePicture(t, name, png)
}

// savePicture writes a screenshot as test-output/screenshots/<name>.png at
// the top of the repository.
func savePicture(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := filepath.Join("..", "test-output", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
