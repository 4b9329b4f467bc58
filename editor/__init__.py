"""The Flowbench studio: models, pages, JSON API, live streams and the services that write."""
