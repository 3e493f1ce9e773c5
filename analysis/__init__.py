"""From run files to numbers and words, in stages that import only downwards (make lint checks).

    load      run files -> tidy frames and merged histograms
    figures   frames -> summary.json's figures, the scale model, the network projection, a sweep's table
    verdicts  a summary -> each seed claim with its verdict
    render    a summary, its verdicts and the frames -> report.md's sections and the PNG plots
    gate      summaries and a baseline -> a verdict per check, gate.json (`lbbench gate`)
    netcheck  a netcheck's runs -> measured against projected (`lbbench netcheck`)
    build     a run or sweep directory -> all of its analysis files

with ``metrics`` (the metric table) and ``fmt`` (numbers as the report writes them) beneath them all.
analysis reads run directories through the contract (runfiles) and imports neither bench nor loadgen.
"""
