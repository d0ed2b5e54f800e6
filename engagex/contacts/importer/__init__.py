"""The contact import pipeline (PRODUCT.md §B, issue 4 item 4).

    upload ─ files.inspect_upload ─ format, encoding, delimiter, header, preview
    start  ─ mapping.mapping_validate ─ every whole-file problem refused up front
    run    ─ readers.open_rows (streamed, one row at a time)
           → rows.RowValidator, on pipeline.ChunkReader's thread (rejects go to a CSV)
           → staging.Merger, per chunk: COPY into a TEMP table, then set-based SQL,
             all in the import's one transaction
           → parallel.PartnerMerger, for big files: a second connection merges the
             other half of every chunk (rows partitioned by address)

Nothing here loads a whole file: memory stays flat whatever the file size. Validation
(Python) overlaps the merge (PostgreSQL), and big files are merged by two database
backends at once, so the import uses both cores of a small machine. The services in
`engagex.contacts.services.imports` drive these steps.
"""
