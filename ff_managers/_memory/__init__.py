"""The memory manager's implementation, one module per job (private: import FFMemoryLayerManager).

``ff_managers/ff_memory_layer_manager.py`` is the public façade; everything it does is here.
"""
