package io.github.replicalock.cli;

/** A command about one deployment: error messages about its arguments name the deployment and namespace. */
interface Targeted {
    String deployment();

    ClusterOptions cluster();
}
