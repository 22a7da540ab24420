/** Settings read from a pipeline file, with the place each value came from, and the pipeline runner. */
@Export
@Version("1.1.0")
package org.align4j.api.pipeline;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
