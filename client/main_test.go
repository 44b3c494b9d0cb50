package client_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/server"
	"faceswap/store"
	"faceswap/store/sqlite"
)

// TestMain starts a real server (server.Main with the set-up's models and
// a fresh SQLite file) for the examples, whose output is checked: they
// find it through FACESWAP_URL and FACESWAP_KEY and run in a folder
// holding the two photos they read (testenv's group photos, made from the
// demo photos set-up fetches). Without the models or the demo photos the
// examples are left out with a message, and under CI=true that fails the
// run instead.
func TestMain(m *testing.M) {
	flag.Parse()
	stop, err := exampleServer()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "CI: the client examples need a real server: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "client: the examples are not run, they need a real server: %v\n", err)
		flag.Set("test.run", "^Test")
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func exampleServer() (stop func(), err error) {
	var cleanups []func()
	stop = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
			stop = func() {}
		}
	}()
	photos, err := testPhotos()
	if err != nil {
		return stop, err
	}
	dir, err := os.MkdirTemp("", "faceswap-client-example-")
	if err != nil {
		return stop, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	for _, name := range []string{testenv.Group3, testenv.Group5} {
		if err := os.Symlink(filepath.Join(photos, name), filepath.Join(dir, name)); err != nil {
			return stop, err
		}
	}

	cfg := server.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = filepath.Join(dir, "faceswap.db")
	cfg.Home = models.Default().Home
	cfg.Workers = 1
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		return stop, err
	}
	cleanups = append(cleanups, func() { db.Close() })
	srv, err := server.NewWith(cfg, server.Deps{Store: store.SQLite(db), Log: io.Discard})
	if err != nil {
		return stop, fmt.Errorf("%w (run make setup)", err)
	}
	if err := srv.Run(context.Background()); err != nil {
		srv.Close()
		return stop, err
	}
	cleanups = append(cleanups, func() { srv.Close() })
	key, _, err := db.CreateKey(context.Background(), faceswap.KeyOptions{Name: "example", Credits: 10, RatePerMinute: 1000})
	if err != nil {
		return stop, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return stop, err
	}
	if err := os.Chdir(dir); err != nil {
		return stop, err
	}
	cleanups = append(cleanups, func() { os.Chdir(wd) })
	if os.Setenv("FACESWAP_URL", srv.URL()) != nil || os.Setenv("FACESWAP_KEY", key) != nil {
		return stop, errors.New("cannot set the environment")
	}
	return stop, nil
}

// mainTB lets TestMain, which has no *testing.T, use testenv's lookups:
// where they would skip or fail a test, they panic with a mainStop that
// testPhotos turns into an error.
type mainTB struct{ testing.TB }

type mainStop string

func (mainTB) Helper()                           {}
func (mainTB) Fatal(args ...any)                 { panic(mainStop(fmt.Sprint(args...))) }
func (mainTB) Fatalf(format string, args ...any) { panic(mainStop(fmt.Sprintf(format, args...))) }
func (mainTB) Skipf(format string, args ...any)  { panic(mainStop(fmt.Sprintf(format, args...))) }

// testPhotos returns the folder of testenv's derived photos, or why there
// is none.
func testPhotos() (dir string, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok := r.(mainStop)
			if !ok {
				panic(r)
			}
			err = errors.New(string(msg))
		}
	}()
	return testenv.Photos(mainTB{}), nil
}
