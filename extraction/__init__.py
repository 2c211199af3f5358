"""The extraction library: page bytes -> an ``Extracted`` article (decoding, trafilatura, Chinese rules).

A library, not a pipeline step: it knows no Scrapy, no archive and no crawl, so the CLI's ``extract``, the
benchmarks and the crawl's ExtractPipeline (in worker processes) all call the same functions. Importing this
package is cheap; ``extraction.article`` is the module that loads trafilatura.
"""
