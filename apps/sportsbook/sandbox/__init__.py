"""The sportsbook's sandbox odds feed: the 2022 World Cup's fixtures (`worldcup`), synthetic
prices (`poisson`) and the feed file that `feed_replay` sends (`feedfile`). Pure Python: no
models, no database; `docs/sportsbook-sandbox.md` describes it."""
