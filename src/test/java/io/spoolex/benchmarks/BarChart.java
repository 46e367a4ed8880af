/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package io.spoolex.benchmarks;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Benchmark ratios as a horizontal bar chart in PNG, drawn by JFreeChart: one group of bars per row label, the value
 * printed at each bar's end, and dashed lines at parity and at the targets.
 */
public final class BarChart
{
    private static final Color[] PALETTE = {
            new Color(0x1F77B4), new Color(0xFF7F0E), new Color(0x2CA02C), new Color(0xD62728), new Color(0x9467BD), new Color(0x8C564B),
    };
    private static final int WIDTH = 1100;

    public record Bar(String series, double value) {}

    public record Group(String label, List<Bar> bars)
    {
        public Group
        {
            requireNonNull(label, "label is null");
            bars = List.copyOf(bars);
        }
    }

    private BarChart() {}

    /**
     * @param axisLabel the value axis' label, with the unit and which direction is better
     * @param referenceLines values to mark with a dashed line and their own label (e.g. 1.0 = parity, 1.5 = target)
     */
    public static void write(Path file, String title, String axisLabel, List<Group> groups, List<Double> referenceLines)
    {
        DefaultCategoryDataset dataset = new DefaultCategoryDataset();
        double maximum = 0;
        for (Group group : groups) {
            for (Bar bar : group.bars()) {
                dataset.addValue(bar.value(), bar.series(), group.label());
                maximum = Math.max(maximum, bar.value());
            }
        }
        for (double line : referenceLines) {
            maximum = Math.max(maximum, line);
        }

        NumberAxis valueAxis = new NumberAxis(axisLabel);
        valueAxis.setRange(0, maximum * 1.15);
        valueAxis.setNumberFormatOverride(new DecimalFormat("0.0#"));
        CategoryAxis categoryAxis = new CategoryAxis();
        categoryAxis.setCategoryMargin(0.25);

        BarRenderer renderer = new BarRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setItemMargin(0.05);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("0.00")));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        // the value just past the end of its bar (horizontal bars: to the right)
        renderer.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT));
        for (int series = 0; series < dataset.getRowCount(); series++) {
            renderer.setSeriesPaint(series, PALETTE[series % PALETTE.length]);
        }

        CategoryPlot plot = new CategoryPlot(dataset, categoryAxis, valueAxis, renderer);
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_LEFT);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinesVisible(true);
        for (double line : referenceLines) {
            ValueMarker marker = new ValueMarker(line, Color.DARK_GRAY, new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
            marker.setLabel(line == 1.0 ? "parity" : "target %s".formatted(new DecimalFormat("0.0#").format(line)));
            marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            marker.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            plot.addRangeMarker(marker, Layer.FOREGROUND);
        }

        JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.addSubtitle(new TextTitle(title, new Font(Font.SANS_SERIF, Font.BOLD, 14)));
        chart.setBackgroundPaint(Color.WHITE);
        int height = 120 + groups.size() * (30 + 22 * Math.max(1, dataset.getRowCount()));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, height);
        }
        catch (IOException e) {
            throw new UncheckedIOException("Cannot write chart " + file, e);
        }
    }
}
