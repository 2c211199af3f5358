"""SQL of the archive's views, one constant per version of each view.

SQLite cannot rebuild a table (batch mode) while a view refers to it, so a revision that alters such a table
drops the view first and creates it again after. A constant here never changes once a revision uses it: a
changed view gets a new constant.
"""

# The newest version of every article, one row each, with its site's name (revision 0001).
LATEST_ARTICLES_V1 = """
CREATE VIEW latest_articles AS
SELECT a.id AS article_id, s.name AS site, a.url, v.version_no, v.title, v.published_at,
       v.author, v.source, v.editor, v.language, v.text, v.text_length,
       a.first_seen, a.last_seen, a.version_count
FROM articles a
JOIN sites s ON s.id = a.site_id
JOIN article_versions v ON v.article_id = a.id AND v.version_no = a.version_count
"""

DROP_LATEST_ARTICLES = "DROP VIEW IF EXISTS latest_articles"
