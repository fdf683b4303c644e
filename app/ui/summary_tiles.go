package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

// summaryTiles is the row of summary numbers. Its one input is the
// server's summary, a small value: a pull that changes nothing in it
// (a refresh with the same counts) does not redraw the tiles.
type summaryTiles struct {
	app.Compo

	Summary api.Summary
}

// tile is one summary number.
type tile struct {
	Name, Label, Value, Sub string
	Warn                    bool
}

// tilesOf lists the tiles of a summary, in display order.
func tilesOf(s api.Summary) []tile {
	rate := "—"
	if s.TotalRead+s.TotalUnread > 0 {
		rate = formatPct(s.ReadRate)
	}
	tiles := []tile{
		{Name: "messages", Label: "Messages", Value: formatInt(s.Messages)},
		{Name: "with-receipt", Label: "With receipt", Value: formatInt(s.WithReceipt)},
		{Name: "missing", Label: "Missing (10062)", Value: formatInt(s.Missing), Warn: s.Missing > 0},
	}
	if s.NotFetched > 0 {
		tiles = append(tiles, tile{Name: "not-fetched", Label: "Not fetched", Value: formatInt(s.NotFetched), Warn: true})
	}
	return append(tiles,
		tile{Name: "total-read", Label: "Total read", Value: formatInt(s.TotalRead)},
		tile{Name: "total-unread", Label: "Total unread", Value: formatInt(s.TotalUnread)},
		tile{Name: "read-rate", Label: "Read rate", Value: rate},
	)
}

// Render draws the tiles.
func (t *summaryTiles) Render() app.UI {
	s := t.Summary
	tiles := tilesOf(s)
	return app.Section().ID("summary").Class("tiles").Aria("label", "Summary").Body(
		app.Range(tiles).Slice(func(i int) app.UI {
			t := tiles[i]
			d := app.Div().Class("tile", "tile-"+t.Name).DataSet("tile", t.Name)
			if t.Warn {
				d = d.Class("tile-warn")
			}
			var extra app.UI
			if t.Name == "read-rate" && s.TotalRead+s.TotalUnread > 0 {
				extra = rateBar(s.ReadRate, 160, 8, "tile-bar")
			}
			return d.Body(
				app.Span().Class("tile-label").Text(t.Label),
				app.Span().Class("tile-value").Text(t.Value),
				extra,
			)
		}),
	)
}
