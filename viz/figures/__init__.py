"""Pure plotly figure builders: each takes an Analysis (or plain arrays) plus keywords and returns a go.Figure."""
