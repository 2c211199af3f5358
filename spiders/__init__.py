"""One spider per Chongqing news site; each file only declares what is specific to its site."""
