"""Policy knowledge base: the official documents split into citable passages, a curated FAQ, and a
search that answers with citations or says it found nothing (passages.py, faq.py, tokens.py, search.py;
HTTP in views.py)."""
