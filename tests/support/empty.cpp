// Keeps vlab_test_support non-empty.
