"""The domain: vocabulary, tables, rules and queries. Plain Python; never imports Textual."""
