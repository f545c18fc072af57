"""The live fabric view: a local web page showing a running fabric (or a recorded sim).

`model` computes what the page shows (sans-I/O), `reads` samples switches over P4Runtime,
`live` and `recorder` are the two sources, `server` serves the page, `cli` is
`fabriclab view`. docs/view.md explains the page.
"""
