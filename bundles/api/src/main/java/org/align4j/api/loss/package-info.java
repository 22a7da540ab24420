/** Loss functions, one contract per family (language model, pairwise, listwise, pointwise, process, preference, policy). */
@Export
@Version("1.3.0")
package org.align4j.api.loss;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
