/** The Transformer model, its parameters, and the weights and checkpoints it is saved as. */
@Export
@Version("1.5.0")
package org.align4j.api.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
