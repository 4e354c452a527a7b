"""Array transforms: normalizers, collapsers, augmentation (see the transforms issue)."""
