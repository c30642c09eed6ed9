"""Caffe Datum LMDBs: Datum bytes (datum), manifests (manifest), atomic
writing and reading (lmdbio), the ordered worker pool (pool), and the two
builders: classification databases from datasets (classification) and the
stage-1 SR patch database (sr_patches)."""
