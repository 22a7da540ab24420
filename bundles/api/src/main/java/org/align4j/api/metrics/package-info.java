/** Training events and the listeners (the whiteboard) that receive them. */
@Export
@Version("1.1.0")
package org.align4j.api.metrics;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
