"""The synthetic-scene test detector (models/synth/synth.sppm): scene
generator, training by torch or by `spp train`, the C detector's check,
and an independent torch reference of the detector's inference."""
