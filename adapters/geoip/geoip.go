// Package geoip places client IPs with a local MaxMind-format database
// (GeoLite2/GeoIP2 City or Country, or any .mmdb with records of that
// shape), read with github.com/oschwald/maxminddb-golang/v2. The file is
// opened once, memory-mapped, at start; a lookup is a walk of its search
// tree in this process and never leaves the machine.
package geoip

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// DB is a geo database opened from a file. It is safe for concurrent use.
type DB struct {
	reader *maxminddb.Reader
}

var _ ports.GeoLocator = (*DB)(nil)

// Open opens the database at path. A missing file, or one that is not a
// MaxMind DB (no metadata, an unknown format version, a search tree that
// does not fit the file), is an error.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: open %s: %w", path, err)
	}
	if r.Metadata.BinaryFormatMajorVersion != 2 {
		_ = r.Close()
		return nil, fmt.Errorf("geoip: %s: MaxMind DB format version %d is not supported (want 2)", path, r.Metadata.BinaryFormatMajorVersion)
	}
	return &DB{reader: r}, nil
}

// Close releases the file.
func (d *DB) Close() error { return d.reader.Close() }

// Type is the database type its metadata names (GeoLite2-City, ...).
func (d *DB) Type() string { return d.reader.Metadata.DatabaseType }

// names are the localized names of a place; only English is read.
type names struct {
	EN string `maxminddb:"en"`
}

type place struct {
	Names names `maxminddb:"names"`
}

// record is the part of a GeoIP2/GeoLite2 City or Country record that a
// location shows. A Country database lacks city, subdivisions and
// location; those stay empty. isp is read from traits (GeoIP2 Enterprise)
// or the top level (GeoIP2 ISP), whichever the file has.
type record struct {
	Continent         place   `maxminddb:"continent"`
	Country           place   `maxminddb:"country"`
	RegisteredCountry place   `maxminddb:"registered_country"`
	Subdivisions      []place `maxminddb:"subdivisions"`
	City              place   `maxminddb:"city"`
	Location          struct {
		Latitude  float64 `maxminddb:"latitude"`
		Longitude float64 `maxminddb:"longitude"`
		TimeZone  string  `maxminddb:"time_zone"`
	} `maxminddb:"location"`
	Traits struct {
		ISP string `maxminddb:"isp"`
	} `maxminddb:"traits"`
	ISP string `maxminddb:"isp"`
}

// Locate returns where ip is, or nil when it is not an address or not in
// the database. A record that does not decode (a damaged file) is unknown
// too: a place is never worth failing a request.
func (d *DB) Locate(ip string) *domain.Location {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	res := d.reader.Lookup(addr.Unmap())
	if !res.Found() {
		return nil
	}
	var r record
	if err := res.Decode(&r); err != nil {
		return nil
	}
	loc := &domain.Location{
		Country:   r.Country.Names.EN,
		City:      r.City.Names.EN,
		Continent: r.Continent.Names.EN,
		Latitude:  r.Location.Latitude,
		Longitude: r.Location.Longitude,
		TimeZone:  r.Location.TimeZone,
		ISP:       r.Traits.ISP,
	}
	if loc.Country == "" {
		loc.Country = r.RegisteredCountry.Names.EN
	}
	if len(r.Subdivisions) > 0 {
		// The first subdivision is the largest (a state, a province).
		loc.Region = r.Subdivisions[0].Names.EN
	}
	if loc.ISP == "" {
		loc.ISP = r.ISP
	}
	return loc
}

// None is the locator when no database is configured: every IP is unknown.
type None struct{}

var _ ports.GeoLocator = None{}

// Locate returns nil.
func (None) Locate(string) *domain.Location { return nil }
