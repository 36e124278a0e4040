package domain

// Location is where an IP address is, as a geo database tells it: English
// names, any of which may be empty. Login history and sessions carry it; it
// is nil when no geo database is configured or the address is not in it.
type Location struct {
	Country string
	Region  string
	City    string
	// The rest is what the original's login detail shows (GET /user's
	// history.detail); the self-service routes show the three above.
	Continent string
	Latitude  float64
	Longitude float64
	TimeZone  string
	ISP       string
}
