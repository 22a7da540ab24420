/** Trainers and the context a pipeline hands them. */
@Export
@Version("1.2.0")
package org.align4j.api.train;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
