package geoip_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/adapters/geoip"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/geotest"
)

func TestLocate(t *testing.T) {
	db, err := geoip.Open(geotest.WriteCity(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := domain.Location{Country: "Japan", Region: "Tokyo", City: "Shinjuku", Continent: "Asia",
		Latitude: 35.6938, Longitude: 139.7034, TimeZone: "Asia/Tokyo"}
	for _, ip := range []string{geotest.TestIP, geotest.TestIPv6, "::ffff:" + geotest.TestIP} {
		got := db.Locate(ip)
		if got == nil || *got != want {
			t.Errorf("Locate(%s) = %+v, want %+v", ip, got, want)
		}
	}
	for _, ip := range []string{geotest.OtherIP, "", "not an ip", "10.0.0.1"} {
		if got := db.Locate(ip); got != nil {
			t.Errorf("Locate(%q) = %+v, want nil", ip, got)
		}
	}
	if got := (geoip.None{}).Locate(geotest.TestIP); got != nil {
		t.Errorf("None.Locate = %+v, want nil", got)
	}
}

func TestOpenRefusesWhatIsNotADatabase(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("this is not a MaxMind database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.mmdb"), garbage, empty, dir} {
		if db, err := geoip.Open(path); err == nil {
			db.Close()
			t.Errorf("Open(%s) succeeded, want an error", path)
		}
	}
}
