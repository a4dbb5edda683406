"""Reading exported log databases: no Qt here.

``source`` opens a database read-only and discovers its log tables;
``filters`` parses the filter language; ``query`` turns a filter and a sort
into SQL (pages, counts, histograms, facets); ``export`` streams rows out.
"""
