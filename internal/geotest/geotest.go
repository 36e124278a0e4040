// Package geotest writes small MaxMind-format databases for tests, so no
// test needs a downloaded GeoLite2 file. Import it from tests only.
package geotest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Place is what a City-shaped record of the test database says about a
// network.
type Place struct {
	Continent, Country, Region, City string
	Latitude, Longitude              float64
	TimeZone                         string
}

// Networks of the documentation ranges (RFC 5737, RFC 3849), which no real
// client has: TestNet is in the database WriteCity makes, OtherNet is not.
const (
	TestNet  = "203.0.113.0/24"
	TestIP   = "203.0.113.7"
	TestIPv6 = "2001:db8::7"
	TestNet6 = "2001:db8::/32"
	OtherIP  = "198.51.100.9"
)

// Tokyo is the place WriteCity gives TestNet and TestNet6.
var Tokyo = Place{Continent: "Asia", Country: "Japan", Region: "Tokyo", City: "Shinjuku",
	Latitude: 35.6938, Longitude: 139.7034, TimeZone: "Asia/Tokyo"}

// WriteCity writes a GeoIP2-City-shaped database that places TestNet and
// TestNet6 in Tokyo, in tb's temporary directory, and returns its path.
func WriteCity(tb testing.TB) string {
	tb.Helper()
	return Write(tb, map[string]Place{TestNet: Tokyo, TestNet6: Tokyo})
}

// Write writes a database with one City-shaped record per network (CIDR)
// and returns its path.
func Write(tb testing.TB, networks map[string]Place) string {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoIP2-City",
		Languages:               []string{"en"},
		RecordSize:              24,
		IncludeReservedNetworks: true, // the documentation ranges are reserved
	})
	if err != nil {
		tb.Fatalf("geotest: new tree: %v", err)
	}
	for cidr, p := range networks {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			tb.Fatalf("geotest: %v", err)
		}
		if err := tree.Insert(network, record(p)); err != nil {
			tb.Fatalf("geotest: insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(tb.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatalf("geotest: %v", err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		tb.Fatalf("geotest: write %s: %v", path, err)
	}
	return path
}

func named(name string) mmdbtype.Map {
	return mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name)}}
}

// record is a GeoIP2 City record: the same keys and nesting.
func record(p Place) mmdbtype.Map {
	return mmdbtype.Map{
		"continent":    named(p.Continent),
		"country":      named(p.Country),
		"subdivisions": mmdbtype.Slice{named(p.Region)},
		"city":         named(p.City),
		"location": mmdbtype.Map{
			"latitude":  mmdbtype.Float64(p.Latitude),
			"longitude": mmdbtype.Float64(p.Longitude),
			"time_zone": mmdbtype.String(p.TimeZone),
		},
	}
}
