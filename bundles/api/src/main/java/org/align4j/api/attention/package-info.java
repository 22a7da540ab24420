/** Attention kernels: the scaled dot-product attention a Transformer block delegates to. */
@Export
@Version("1.1.0")
package org.align4j.api.attention;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
