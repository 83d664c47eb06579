"""Member groups (会员群体): labelled sets of members — model workers, women workers, workers in
new forms of employment … — that plugins target content and offers at."""
