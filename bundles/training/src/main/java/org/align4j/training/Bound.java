package org.align4j.training;

/**
 * A trainer's plugins as Declarative Services bound them: a trainer reads each dynamic reference once, when its
 * stage starts, and fails with one message when the plugin the stage names is not (or no longer) there.
 */
public final class Bound {
    private Bound() {
    }

    /**
     * {@code service}, or an error saying which of {@code trainer}'s references has no service named {@code name}.
     *
     * @param trainer the trainer's name, e.g. {@code sft}
     * @param reference the reference, e.g. {@code optimizer}
     */
    public static <T> T require(String trainer, T service, String reference, String name) {
        if (service == null) {
            throw new IllegalStateException(trainer + ": no " + reference + " service named \"" + name
                    + "\" is bound (its bundle stopped or is not installed); run `align4j:plugins` to list them");
        }
        return service;
    }
}
