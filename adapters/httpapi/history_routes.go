package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/history"
)

type historyPage struct {
	Items []historyItem `json:"items"`
	Next  *string       `json:"next"`
}

type historyItem struct {
	Time      string          `json:"time"`
	IP        string          `json:"ip"`
	UserAgent string          `json:"user_agent"`
	Method    string          `json:"method"`
	Result    string          `json:"result"`
	Location  *locationOutput `json:"location"`
}

// locationOutput is where an IP is, as every route shows it (API.md
// "Login history"): English names, null when unknown.
type locationOutput struct {
	Country string `json:"country"`
	Region  string `json:"region"`
	City    string `json:"city"`
}

func newLocationOutput(l *domain.Location) *locationOutput {
	if l == nil {
		return nil
	}
	return &locationOutput{Country: l.Country, Region: l.Region, City: l.City}
}

// getHistory answers GET /user/history?limit=&before=.
func (h *handler) getHistory(c *echo.Context) error {
	q, err := historyQuery(c)
	if err != nil {
		return err
	}
	page, err := h.History.Page(c.Request().Context(), claimsOf(c), q)
	if err != nil {
		return err
	}
	resp := historyPage{Items: make([]historyItem, len(page.Items))}
	for i, e := range page.Items {
		resp.Items[i] = historyItem{
			Time: rfc3339(e.Time), IP: e.IP, UserAgent: e.UserAgent, Method: string(e.Method),
			Result: string(e.Result()), Location: newLocationOutput(e.Location),
		}
	}
	if page.Next != "" {
		resp.Next = &page.Next
	}
	return c.JSON(http.StatusOK, resp)
}

// historyQuery reads limit and before. Each may be left out; given twice,
// or given empty, it is malformed rather than a silent default.
func historyQuery(c *echo.Context) (history.Query, error) {
	params := c.QueryParams()
	var q history.Query
	for name, dst := range map[string]*string{"limit": &q.Limit, "before": &q.Before} {
		vs, ok := params[name]
		if !ok {
			continue
		}
		if len(vs) != 1 || vs[0] == "" {
			return history.Query{}, domain.Invalid(name + " must be given once, with a value")
		}
		*dst = vs[0]
	}
	return q, nil
}
